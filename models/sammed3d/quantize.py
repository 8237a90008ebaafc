"""The int8 encoder variant: ONNX dynamic quantization of the transformer blocks, written here.

Every MatMul of the encoder's blocks (qkv, proj, lin1, lin2: ~87 of its ~104 GFLOP) whose second
input is a constant [K, N] weight becomes
    DynamicQuantizeLinear(x) -> MatMulInteger(x_u8, W_s8, x_zero_point) -> Cast(float) -> Mul(x_scale * w_scale)
with the weight quantized per output column, symmetric (N scales, zero point 0); onnxruntime fuses
the pattern into one kernel. The patch embedding (raw voxels in) and the neck (embeddings out)
stay float32: on the in-repo fixture they held most of the error (embeddings 4.0e-2 of their
largest value with them quantized, 8.5e-3 without). Inputs, outputs and every other node keep
their names.
"""
import re

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

BLOCK_WEIGHT = re.compile(r"^image_encoder\.blocks\.\d+\.")


def quantize_columns(w: np.ndarray):
    """int8 per output column, symmetric: (q, scale) with w ~= q * scale."""
    scale = np.abs(w).max(axis=0) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def quantize_encoder(model: onnx.ModelProto) -> int:
    """Rewrites the encoder `model` in place; returns how many MatMuls it quantized."""
    graph = model.graph
    weights = {t.name: t for t in graph.initializer}
    nodes, replaced = [], set()
    for node in graph.node:
        weight = weights.get(node.input[1]) if node.op_type == "MatMul" else None
        if weight is None or len(weight.dims) != 2 or not BLOCK_WEIGHT.match(weight.name):
            nodes.append(node)
            continue
        x, out, name = node.input[0], node.output[0], node.name
        x_q, x_scale, x_zero = f"{out}_x_quant", f"{out}_x_scale", f"{out}_x_zero_point"
        q, scale = quantize_columns(numpy_helper.to_array(weight))
        w = weight.name
        graph.initializer.extend([numpy_helper.from_array(q, f"{w}_quant"), numpy_helper.from_array(scale, f"{w}_scale")])
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [x], [x_q, x_scale, x_zero], name=f"{name}_quantize"),
            helper.make_node("MatMulInteger", [x_q, f"{w}_quant", x_zero], [f"{out}_int32"], name=f"{name}_int"),
            helper.make_node("Cast", [f"{out}_int32"], [f"{out}_cast"], name=f"{name}_cast", to=TensorProto.FLOAT),
            helper.make_node("Mul", [x_scale, f"{w}_scale"], [f"{out}_scale"], name=f"{name}_scale"),
            helper.make_node("Mul", [f"{out}_cast", f"{out}_scale"], [out], name=f"{name}_dequant"),
        ]
        replaced.add(w)
    del graph.node[:]
    graph.node.extend(nodes)
    still_read = {i for n in graph.node for i in n.input}
    kept = [t for t in graph.initializer if t.name not in replaced or t.name in still_read]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return len(replaced)


def write_int8_encoder(src: str, dst: str) -> int:
    """Writes the int8 variant of the encoder at `src` to `dst`; returns how many MatMuls it quantized."""
    model = onnx.load(src)
    count = quantize_encoder(model)
    onnx.checker.check_model(model)
    onnx.save(model, dst)
    return count
