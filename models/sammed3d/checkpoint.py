"""Reading official checkpoints."""
import inspect
from typing import Dict

import torch

from .config import infer_config
from .layout import CheckpointMismatch, load_state_dict
from .model import SamMed3D

STATE_DICT_KEY = "model_state_dict"


def read_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """The float32 tensors of an official checkpoint (a dict with `model_state_dict`, or a bare state dict)."""
    kwargs = {"weights_only": True} if "weights_only" in inspect.signature(torch.load).parameters else {}
    data = torch.load(path, map_location="cpu", **kwargs)
    state_dict = data.get(STATE_DICT_KEY, data) if isinstance(data, dict) else None
    if not isinstance(state_dict, dict) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise CheckpointMismatch(f"{path}: not a SAM-Med3D checkpoint (no tensor dict under '{STATE_DICT_KEY}')")
    # float32 as the model computes (a float16 checkpoint, like the in-repo fixture's, is widened exactly).
    return {name: tensor.float() for name, tensor in state_dict.items()}


def build_model(state_dict: Dict[str, torch.Tensor], optimized: bool = True) -> SamMed3D:
    """Infer the configuration, build our model and load the tensors (refusing any mismatch)."""
    model = SamMed3D(infer_config(state_dict), optimized).eval()
    load_state_dict(model, state_dict)
    return model
