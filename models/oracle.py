"""Write an "oracle" SAM-Med3D ONNX pair for geometry tests (no weights, same contract as export.py).

encoder.onnx packs the 4x4x4 average-pooled normalized patch (32^3 cells) into the first
32768 of the 384x8x8x8 embedding values. decoder.onnx unpacks it and segments the bright
object under the positive clicks: cells brighter than the midpoint between the darkest and
brightest cell are "bright"; a flood fill (repeated 3x3x3 max pooling) grows from the bright
cells near positive points through bright cells, blocked by balls around negative points.
Logits are (intensity - midpoint) inside the filled region and -|intensity - midpoint|
elsewhere, so the mask boundary follows the intensity edge.
A click on a bright object thus segments that object whatever the input geometry: any
axis-order, crop or resampling mistake of the engine shows up as a misplaced mask.

Usage: /usr/bin/python3 models/oracle.py OUT_DIR
"""
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

PATCH = 128
LOW = 32
POOL = PATCH // LOW
EMBED_SHAPE = [1, 384, 8, 8, 8]
SEED_RADIUS = 6.0  # voxels of the 128^3 patch: a positive click starts the fill from cells this close
NEG_RADIUS = 12.0  # voxels: the ball a negative click removes
FILL_STEPS = 48  # flood-fill reach in cells (more than a patch side)
FAR = 1e6


def const(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def encoder():
    embed_size = int(np.prod(EMBED_SHAPE))
    nodes = [
        helper.make_node("AveragePool", ["image"], ["pooled"], kernel_shape=[POOL] * 3, strides=[POOL] * 3),
        helper.make_node("Reshape", ["pooled", "flat_shape"], ["flat"]),
        helper.make_node("Pad", ["flat", "pads"], ["padded"]),
        helper.make_node("Reshape", ["padded", "embed_shape"], ["embeddings"]),
    ]
    inits = [
        const("flat_shape", np.array([1, LOW ** 3], np.int64)),
        const("pads", np.array([0, 0, 0, embed_size - LOW ** 3], np.int64)),
        const("embed_shape", np.array(EMBED_SHAPE, np.int64)),
    ]
    return helper.make_graph(
        nodes, "oracle_encoder",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, PATCH, PATCH, PATCH])],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, EMBED_SHAPE)],
        inits,
    )


def decoder():
    # Centres of the 32^3 cells in 128^3 voxel coordinates, C-order (last axis fastest).
    axis = np.arange(LOW, dtype=np.float32) * POOL + (POOL - 1) / 2
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(1, 1, LOW ** 3, 3)
    node = helper.make_node
    nodes = [
        # intensity of each cell, centred between the darkest and brightest cell
        node("Reshape", ["embeddings", "flat_embed_shape"], ["flat_embed"]),
        node("Slice", ["flat_embed", "zero", "cells", "one_axis"], ["intensity"]),
        node("ReduceMax", ["intensity"], ["hi"], keepdims=1),
        node("ReduceMin", ["intensity"], ["lo"], keepdims=1),
        node("Add", ["hi", "lo"], ["hi_lo"]),
        node("Mul", ["hi_lo", "half"], ["mid"]),
        node("Sub", ["intensity", "mid"], ["centred"]),
        # distance from every cell to the nearest positive / negative point: [1, cells]
        node("Unsqueeze", ["point_coords", "two_axis"], ["points4"]),
        node("Sub", ["grid", "points4"], ["delta"]),
        node("Mul", ["delta", "delta"], ["delta2"]),
        node("ReduceSum", ["delta2", "last_axis"], ["dist2"], keepdims=0),
        node("Sqrt", ["dist2"], ["dist"]),
        node("Unsqueeze", ["point_labels", "last_axis"], ["labels3"]),
        node("Sub", ["one", "labels3"], ["not_labels3"]),
        node("Mul", ["not_labels3", "far"], ["pos_exclude"]),
        node("Mul", ["labels3", "far"], ["neg_exclude"]),
        node("Add", ["dist", "pos_exclude"], ["dist_pos_all"]),
        node("Add", ["dist", "neg_exclude"], ["dist_neg_all"]),
        node("ReduceMin", ["dist_pos_all"], ["dist_pos"], axes=[1], keepdims=0),
        node("ReduceMin", ["dist_neg_all"], ["dist_neg"], axes=[1], keepdims=0),
        # flood fill of bright cells from the positive clicks, blocked around negative clicks
        node("Greater", ["centred", "zero_f"], ["bright_bool"]),
        node("Cast", ["bright_bool"], ["bright"], to=TensorProto.FLOAT),
        node("Greater", ["dist_neg", "neg_radius"], ["free_bool"]),
        node("Cast", ["free_bool"], ["free"], to=TensorProto.FLOAT),
        node("Mul", ["bright", "free"], ["allowed_flat"]),
        node("Reshape", ["allowed_flat", "logits_shape"], ["allowed"]),
        node("Less", ["dist_pos", "seed_radius"], ["seed_bool"]),
        node("Cast", ["seed_bool"], ["seed"], to=TensorProto.FLOAT),
        node("Reshape", ["seed", "logits_shape"], ["seed5"]),
        node("Mul", ["seed5", "allowed"], ["fill_0"]),
    ]
    for step in range(FILL_STEPS):
        nodes.append(node("MaxPool", [f"fill_{step}"], [f"grown_{step}"], kernel_shape=[3, 3, 3], pads=[1] * 6))
        nodes.append(node("Mul", [f"grown_{step}", "allowed"], [f"fill_{step + 1}"]))
    nodes += [
        # filled: centred (> 0); elsewhere: -|centred|
        node("Reshape", ["centred", "logits_shape"], ["centred5"]),
        node("Abs", ["centred5"], ["magnitude"]),
        node("Neg", ["magnitude"], ["outside"]),
        node("Sub", ["centred5", "outside"], ["inside_minus_outside"]),
        node("Mul", [f"fill_{FILL_STEPS}", "inside_minus_outside"], ["filled_part"]),
        node("Add", ["outside", "filled_part"], ["logits"]),
        # the mask prompt takes part in the graph (so the input exists) without changing it
        node("Mul", ["mask_input", "zero_f"], ["mask_zero"]),
        node("Add", ["logits", "mask_zero"], ["low_res_logits"]),
        node("ReduceMean", ["fill_%d" % FILL_STEPS], ["filled_fraction"], keepdims=0),
        node("Reshape", ["filled_fraction", "iou_shape"], ["iou_predictions"]),
    ]
    f = lambda v: np.array(v, np.float32)
    inits = [
        const("flat_embed_shape", np.array([1, -1], np.int64)),
        const("zero", np.array([0], np.int64)),
        const("cells", np.array([LOW ** 3], np.int64)),
        const("one_axis", np.array([1], np.int64)),
        const("two_axis", np.array([2], np.int64)),
        const("last_axis", np.array([-1], np.int64)),
        const("logits_shape", np.array([1, 1, LOW, LOW, LOW], np.int64)),
        const("iou_shape", np.array([1, 1], np.int64)),
        const("grid", grid.astype(np.float32)),
        const("half", f(0.5)),
        const("one", f(1.0)),
        const("zero_f", f(0.0)),
        const("far", f(FAR)),
        const("seed_radius", f(SEED_RADIUS)),
        const("neg_radius", f(NEG_RADIUS)),
    ]
    return helper.make_graph(
        nodes, "oracle_decoder",
        [
            helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, EMBED_SHAPE),
            helper.make_tensor_value_info("point_coords", TensorProto.FLOAT, [1, "N", 3]),
            helper.make_tensor_value_info("point_labels", TensorProto.FLOAT, [1, "N"]),
            helper.make_tensor_value_info("mask_input", TensorProto.FLOAT, [1, 1, LOW, LOW, LOW]),
        ],
        [
            helper.make_tensor_value_info("low_res_logits", TensorProto.FLOAT, [1, 1, LOW, LOW, LOW]),
            helper.make_tensor_value_info("iou_predictions", TensorProto.FLOAT, [1, 1]),
        ],
        inits,
    )


def save(graph, path):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="sam-med3d-web oracle")
    model.ir_version = 7
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    save(encoder(), out / "encoder.onnx")
    save(decoder(), out / "decoder.onnx")
    meta = {"name": "oracle", "patch_size": PATCH, "spacing_mm": 1.5, "mask_size": LOW}
    (out / "model.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"oracle model written to {out}")


if __name__ == "__main__":
    main()
