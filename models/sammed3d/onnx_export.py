"""Export our SAM-Med3D modules to ONNX: full graphs, weight-free templates, model.json."""
import hashlib
import inspect
import json
import os
import warnings
from typing import Dict, List

import onnx
import torch
from onnx import numpy_helper

from .layout import iter_layouts
from .config import SamMed3DConfig
from .model import DecoderGraph, EncoderGraph, SamMed3D

OPSET = 17  # LayerNormalization as one op
PREPROCESSING = {"patchSize": 128, "spacingMm": 1.5, "maskSize": 32, "normalization": "z-score of voxels > 0"}


def graph_io(c: SamMed3DConfig) -> Dict[str, Dict]:
    """The graphs' inputs and outputs; the embedding width is the prompt width (384 for turbo)."""
    embeddings = [1, c.prompt_embed_dim, c.grid, c.grid, c.grid]
    mask = [1, 1, c.mask_size, c.mask_size, c.mask_size]
    return {
        "encoder": {"inputs": {"image": [1, 1, c.img_size, c.img_size, c.img_size]}, "outputs": {"embeddings": embeddings}},
        "decoder": {"inputs": {"embeddings": embeddings, "point_coords": [1, "N", 3], "point_labels": [1, "N"],
                               "mask_input": mask},
                    "outputs": {"low_res_logits": mask, "iou_predictions": [1, 1]}},
    }

WEIGHT_ALIGN = 64


def _export(module: torch.nn.Module, args: tuple, path: str, io: Dict, dynamic_axes: Dict) -> None:
    kwargs = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # the TorchScript exporter keeps parameter names as initializer names
    with torch.no_grad(), warnings.catch_warnings():
        # Tracer notes about shapes read as Python ints: every shape here is fixed but N (handled by Shape ops).
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, path, opset_version=OPSET, input_names=list(io["inputs"]),
                          output_names=list(io["outputs"]), dynamic_axes=dynamic_axes,
                          do_constant_folding=False, **kwargs)


def export_graphs(model: SamMed3D, out_dir: str) -> Dict[str, str]:
    """Write encoder.onnx and decoder.onnx; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    c = model.config
    paths = {"encoder": os.path.join(out_dir, "encoder.onnx"), "decoder": os.path.join(out_dir, "decoder.onnx")}
    io = graph_io(c)
    image = torch.zeros(1, 1, c.img_size, c.img_size, c.img_size)
    _export(EncoderGraph(model), (image,), paths["encoder"], io["encoder"], {})
    decoder_args = (torch.zeros(1, c.prompt_embed_dim, c.grid, c.grid, c.grid), torch.full((1, 2, 3), 64.0),
                    torch.tensor([[1.0, 0.0]]), torch.zeros(1, 1, c.mask_size, c.mask_size, c.mask_size))
    _export(DecoderGraph(model), decoder_args, paths["decoder"], io["decoder"],
            {"point_coords": {1: "N"}, "point_labels": {1: "N"}})
    return paths


def write_templates(model: SamMed3D, graph_paths: Dict[str, str], out_dir: str, graph: str) -> str:
    """Weight-free copies of the graphs plus manifest.json (format: models/TEMPLATES.md)."""
    os.makedirs(out_dir, exist_ok=True)
    layouts = {name: (shape, transforms) for name, shape, transforms in iter_layouts(model)}
    graphs = {}
    for key, path in graph_paths.items():
        proto = onnx.load(path)
        weights_file = f"{key}.weights.bin"
        entries: List[Dict] = []
        offset = 0
        for tensor in proto.graph.initializer:
            if tensor.name not in layouts:
                continue  # a small graph constant, kept inline
            length = numpy_helper.to_array(tensor).nbytes
            entries.append({"name": tensor.name, "source": tensor.name, "transforms": layouts[tensor.name][1],
                            "shape": list(tensor.dims), "dtype": "float32", "offset": offset, "length": length})
            tensor.ClearField("raw_data")
            tensor.ClearField("float_data")
            tensor.data_location = onnx.TensorProto.EXTERNAL
            del tensor.external_data[:]
            for k, v in (("location", weights_file), ("offset", str(offset)), ("length", str(length))):
                tensor.external_data.add(key=k, value=v)
            offset += -(-length // WEIGHT_ALIGN) * WEIGHT_ALIGN
        with open(os.path.join(out_dir, f"{key}.onnx"), "wb") as f:
            f.write(proto.SerializeToString())
        graphs[key] = {"model": f"{key}.onnx", "weightsFile": weights_file, "weightsBytes": offset,
                       "initializers": entries}
    manifest = {
        "format": "sam-med3d-onnx-template", "version": 1, "graph": graph, "config": model.config.to_json(),
        "checkpoint": {"stateDictKey": "model_state_dict",
                       "tensors": {name: list(shape) for name, (shape, _) in layouts.items()}},
        "graphs": graphs,
    }
    path = os.path.join(out_dir, "manifest.json")
    with open(path, "w") as f:
        json.dump(manifest, f, indent=1)
    return path


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_model_json(model: SamMed3D, graph_paths: Dict[str, str], out_dir: str, graph: str,
                     checkpoint: str) -> str:
    """model.json; `graph_paths` may hold "encoder_int8" (the optional int8 encoder, same inputs and outputs)."""
    io = graph_io(model.config)
    info = {
        "format": "sam-med3d-onnx", "version": 1, "graph": graph, "opset": OPSET,
        "checkpoint": os.path.basename(checkpoint),
        "config": model.config.to_json(),
        "preprocessing": PREPROCESSING,
        "encoder": {"file": "encoder.onnx", "sha256": sha256(graph_paths["encoder"]), **io["encoder"]},
        "decoder": {"file": "decoder.onnx", "sha256": sha256(graph_paths["decoder"]), **io["decoder"]},
        "templates": "templates/manifest.json",
    }
    if "encoder_int8" in graph_paths:
        info["encoder_int8"] = {"file": "encoder_int8.onnx", "sha256": sha256(graph_paths["encoder_int8"]), **io["encoder"]}
    path = os.path.join(out_dir, "model.json")
    with open(path, "w") as f:
        json.dump(info, f, indent=1)
    return path
