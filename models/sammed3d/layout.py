"""Checkpoint tensors stored in the layout the ONNX graphs use.

Every parameter of our modules is a checkpoint tensor after a short list of transforms
(the vocabulary of models/TEMPLATES.md: transpose, reshape). The parameter's name is the
checkpoint tensor's name, so a graph initializer maps back to its source with no table.
"""
from typing import Dict, Iterator, List, Sequence, Tuple

import torch
from torch import nn

Transform = Dict[str, object]
Shape = Tuple[int, ...]


def transpose(perm: Sequence[int]) -> Transform:
    return {"op": "transpose", "perm": list(perm)}


def reshape(shape: Sequence[int]) -> Transform:
    return {"op": "reshape", "shape": [int(s) for s in shape]}


def apply_transforms(tensor: torch.Tensor, transforms: Sequence[Transform]) -> torch.Tensor:
    for t in transforms:
        if t["op"] == "transpose":
            tensor = tensor.permute(*t["perm"])
        elif t["op"] == "reshape":
            tensor = tensor.reshape(t["shape"])
        elif t["op"] == "slice":
            tensor = tensor.narrow(t["axis"], t["start"], t["end"] - t["start"])
        else:
            raise ValueError(f"unknown transform {t['op']}")
    return tensor.contiguous()


def transformed_shape(shape: Shape, transforms: Sequence[Transform]) -> Shape:
    return tuple(apply_transforms(torch.empty(shape, device="meta"), transforms).shape)


# Layouts of the common weights.
def linear_weight(out_features: int, in_features: int) -> Tuple[Shape, List[Transform]]:
    """nn.Linear weight [out, in] used as x @ W: [in, out]."""
    return (out_features, in_features), [transpose([1, 0])]


def conv_weight(out_ch: int, in_ch: int, k: int) -> Tuple[Shape, List[Transform]]:
    """nn.Conv3d weight [out, in, k, k, k] used as patches @ W, patches ordered (kd, kh, kw, in)."""
    return (out_ch, in_ch, k, k, k), [transpose([2, 3, 4, 1, 0]), reshape([k * k * k * in_ch, out_ch])]


def conv_transpose_weight(in_ch: int, out_ch: int) -> Tuple[Shape, List[Transform]]:
    """nn.ConvTranspose3d(k=2, s=2) weight [in, out, 2, 2, 2] used as x @ W: [in, 8*out], (kd, kh, kw, out)."""
    return (in_ch, out_ch, 2, 2, 2), [transpose([0, 2, 3, 4, 1]), reshape([in_ch, 8 * out_ch])]


def conv_transpose_columns_weight(in_ch: int, out_ch: int) -> Tuple[Shape, List[Transform]]:
    """The same weight used as W @ x^T (channels-first output): [8*out, in], rows (out, kd, kh, kw)."""
    return (in_ch, out_ch, 2, 2, 2), [transpose([1, 2, 3, 4, 0]), reshape([8 * out_ch, in_ch])]


class CheckpointModule(nn.Module):
    """A module whose parameters are checkpoint tensors in graph layout."""

    def __init__(self) -> None:
        super().__init__()
        self.layouts: Dict[str, Tuple[Shape, List[Transform]]] = {}

    def add_weight(self, name: str, source_shape: Shape, transforms: Sequence[Transform] = ()) -> None:
        shape = transformed_shape(tuple(source_shape), transforms)
        self.register_parameter(name, nn.Parameter(torch.zeros(shape), requires_grad=False))
        self.layouts[name] = (tuple(source_shape), list(transforms))


def iter_layouts(model: nn.Module) -> Iterator[Tuple[str, Shape, List[Transform]]]:
    """(checkpoint name, checkpoint shape, transforms) of every parameter of `model`."""
    for prefix, module in model.named_modules():
        if isinstance(module, CheckpointModule):
            for name, (shape, transforms) in module.layouts.items():
                yield (f"{prefix}.{name}" if prefix else name), shape, transforms


class CheckpointMismatch(ValueError):
    pass


def load_state_dict(model: nn.Module, state_dict: Dict[str, torch.Tensor]) -> None:
    """Fill `model` from an official state dict; refuse missing, extra or mis-shaped tensors."""
    expected = {name: shape for name, shape, _ in iter_layouts(model)}
    missing = sorted(set(expected) - set(state_dict))
    extra = sorted(set(state_dict) - set(expected))
    misshaped = sorted(
        f"{n} {tuple(state_dict[n].shape)} (expected {expected[n]})"
        for n in set(expected) & set(state_dict)
        if tuple(state_dict[n].shape) != expected[n]
    )
    problems = []
    if missing:
        problems.append("missing tensors: " + ", ".join(missing))
    if extra:
        problems.append("unexpected tensors: " + ", ".join(extra))
    if misshaped:
        problems.append("mis-shaped tensors: " + ", ".join(misshaped))
    if problems:
        raise CheckpointMismatch("checkpoint does not match SAM-Med3D: " + "; ".join(problems))
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, _, transforms in iter_layouts(model):
            params[name].copy_(apply_transforms(state_dict[name].float(), transforms))
