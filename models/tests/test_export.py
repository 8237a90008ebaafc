"""Our PyTorch model reproduces the fidelity fixtures; the exported graphs, model.json and templates keep their contract.

(ONNX Runtime for Python is not available here: the ONNX graphs' numerical fidelity is tested in
Node, tests/model-fidelity.test.ts, and in Chromium, e2e/model-fidelity.spec.ts.)
"""
import hashlib
import json
import os

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

from conftest import MINI
from sammed3d.checkpoint import build_model
from sammed3d.model import DecoderGraph, EncoderGraph
from sammed3d.onnx_export import export_graphs, write_model_json, write_templates
from sammed3d.quantize import quantize_columns, write_int8_encoder


def relative_error(actual: np.ndarray, reference: np.ndarray) -> float:
    return float(np.abs(actual - reference).max() / np.abs(reference).max())


@pytest.mark.parametrize("optimized", [True, False])
def test_encoder_reproduces_the_fixture(fidelity_fixture, optimized):
    model = build_model(fidelity_fixture.state_dict, optimized)
    with torch.no_grad():
        embeddings = EncoderGraph(model)(fidelity_fixture.load("roi_image"))
    assert relative_error(embeddings.numpy(), fidelity_fixture.load("embeddings").numpy()) <= 1e-4


def test_decoder_reproduces_the_fixture_clicks(fidelity_fixture):
    load = fidelity_fixture.load
    decoder = DecoderGraph(build_model(fidelity_fixture.state_dict))
    previous = torch.zeros(1, 1, 32, 32, 32)
    for k in (1, 2, 3):
        with torch.no_grad():
            logits, iou = decoder(load("embeddings"), load(f"points_{k}"), load(f"labels_{k}"), previous)
        assert relative_error(logits.numpy(), load(f"logits_{k}").numpy()) <= 1e-4
        assert relative_error(iou.numpy(), load(f"iou_{k}").numpy()) <= 1e-4
        previous = load(f"logits_{k}")


@pytest.fixture(scope="module")
def exported(tmp_path_factory, fixture_state_dict):
    out = str(tmp_path_factory.mktemp("mini"))
    model = build_model(fixture_state_dict)
    paths = export_graphs(model, out)
    write_templates(model, paths, os.path.join(out, "templates"), "optimized")
    paths["encoder_int8"] = os.path.join(out, "encoder_int8.onnx")
    write_int8_encoder(paths["encoder"], paths["encoder_int8"])
    write_model_json(model, paths, out, "optimized", os.path.join(MINI, "checkpoint.pth"))
    return out


def dims(value_info) -> list:
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def test_graph_contract(exported):
    encoder = onnx.load(os.path.join(exported, "encoder.onnx"))
    decoder = onnx.load(os.path.join(exported, "decoder.onnx"))
    for graph in (encoder, decoder):
        onnx.checker.check_model(graph)
    assert {i.name: dims(i) for i in encoder.graph.input} == {"image": [1, 1, 128, 128, 128]}
    # The embedding width is the prompt width: 96 in the in-repo fixture (384 in turbo).
    assert {o.name: dims(o) for o in encoder.graph.output} == {"embeddings": [1, 96, 8, 8, 8]}
    assert {i.name: dims(i) for i in decoder.graph.input} == {
        "embeddings": [1, 96, 8, 8, 8], "point_coords": [1, "N", 3], "point_labels": [1, "N"],
        "mask_input": [1, 1, 32, 32, 32]}
    assert [o.name for o in decoder.graph.output] == ["low_res_logits", "iou_predictions"]
    assert dims(decoder.graph.output[0]) == [1, 1, 32, 32, 32]


def test_graphs_avoid_ops_webgpu_lacks(exported):
    """3D (transposed) convolutions and Einsum are rewritten as MatMul + Reshape/Transpose."""
    for name in ("encoder.onnx", "decoder.onnx"):
        ops = {node.op_type for node in onnx.load(os.path.join(exported, name)).graph.node}
        assert not ops & {"Conv", "ConvTranspose", "Einsum"}, name
        assert "MatMul" in ops and "LayerNormalization" in ops


def test_model_json(exported):
    with open(os.path.join(exported, "model.json")) as f:
        info = json.load(f)
    assert info["preprocessing"]["patchSize"] == 128 and info["preprocessing"]["spacingMm"] == 1.5
    assert info["preprocessing"]["maskSize"] == 32
    assert info["config"]["encoder_embed_dim"] == 96 and info["config"]["encoder_global_attn_indexes"] == [1]
    assert info["encoder"]["outputs"]["embeddings"] == info["decoder"]["inputs"]["embeddings"] == [1, 96, 8, 8, 8]
    assert info["encoder_int8"]["outputs"] == info["encoder"]["outputs"]
    for key in ("encoder", "decoder", "encoder_int8"):
        with open(os.path.join(exported, info[key]["file"]), "rb") as f:
            assert info[key]["sha256"] == hashlib.sha256(f.read()).hexdigest()
    assert list(info["decoder"]["inputs"]) == ["embeddings", "point_coords", "point_labels", "mask_input"]


def test_int8_encoder_quantizes_the_blocks_only(exported):
    """Same inputs and outputs; each block's qkv, proj, lin1 and lin2 in int8; patch embedding and neck in float32."""
    fp32 = onnx.load(os.path.join(exported, "encoder.onnx"))
    int8 = onnx.load(os.path.join(exported, "encoder_int8.onnx"))
    onnx.checker.check_model(int8)
    for a, b in ((fp32.graph.input, int8.graph.input), (fp32.graph.output, int8.graph.output)):
        assert [(v.name, dims(v)) for v in a] == [(v.name, dims(v)) for v in b]
    ops = [node.op_type for node in int8.graph.node]
    assert ops.count("MatMulInteger") == 4 * 2  # the fixture's encoder has 2 blocks
    assert ops.count("DynamicQuantizeLinear") == 4 * 2
    float_weights = {n.input[1] for n in int8.graph.node if n.op_type == "MatMul"} & {t.name for t in int8.graph.initializer}
    assert all(".patch_embed." in w or ".neck." in w for w in float_weights) and len(float_weights) == 3


def test_quantize_columns_round_trips_within_half_a_step():
    w = np.random.default_rng(0).normal(size=(64, 5)).astype(np.float32)
    w[:, 4] = 0
    q, scale = quantize_columns(w)
    assert q.dtype == np.int8 and scale.shape == (5,) and np.abs(q).max() == 127
    assert np.all(np.abs(q * scale - w) <= scale / 2 + 1e-7)


def numpy_transforms(array: np.ndarray, transforms: list) -> np.ndarray:
    """TEMPLATES.md's vocabulary, implemented independently of the exporter."""
    for t in transforms:
        if t["op"] == "transpose":
            array = np.transpose(array, t["perm"])
        elif t["op"] == "reshape":
            array = np.reshape(array, t["shape"])
        else:
            raise AssertionError(f"unexpected transform {t}")
    return np.ascontiguousarray(array, dtype=np.float32)


def test_templates_rebuild_the_full_graphs(exported, fixture_state_dict):
    with open(os.path.join(exported, "templates", "manifest.json")) as f:
        manifest = json.load(f)
    assert manifest["format"] == "sam-med3d-onnx-template" and manifest["version"] == 1
    assert manifest["checkpoint"]["tensors"] == {k: list(v.shape) for k, v in fixture_state_dict.items()}
    for key, entry in manifest["graphs"].items():
        full = {t.name: numpy_helper.to_array(t) for t in onnx.load(os.path.join(exported, f"{key}.onnx")).graph.initializer}
        template = onnx.load(os.path.join(exported, "templates", entry["model"]), load_external_data=False)
        inline = [t for t in template.graph.initializer if t.data_location != onnx.TensorProto.EXTERNAL]
        assert sum(numpy_helper.to_array(t).nbytes for t in inline) < 100_000, "weights left inside the template"
        weights = bytearray(entry["weightsBytes"])
        for init in entry["initializers"]:
            array = numpy_transforms(fixture_state_dict[init["source"]].numpy(), init["transforms"])
            assert list(array.shape) == init["shape"] and init["offset"] % 64 == 0
            weights[init["offset"]:init["offset"] + init["length"]] = array.tobytes()
        for tensor in template.graph.initializer:
            if tensor.data_location == onnx.TensorProto.EXTERNAL:
                meta = {kv.key: kv.value for kv in tensor.external_data}
                assert meta["location"] == entry["weightsFile"]
                start, length = int(meta["offset"]), int(meta["length"])
                rebuilt = np.frombuffer(bytes(weights[start:start + length]), dtype=np.float32).reshape(tensor.dims)
                np.testing.assert_array_equal(rebuilt, full[tensor.name])
            else:
                np.testing.assert_array_equal(numpy_helper.to_array(tensor), full[tensor.name])
        assert len(template.graph.initializer) == len(full)
