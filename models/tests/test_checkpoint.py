"""Configuration inference and refused checkpoints."""
import dataclasses
import os
import subprocess
import sys

import pytest
import torch

from conftest import MODELS_DIR
from make_random_checkpoint import PRESETS, random_state_dict
from sammed3d.checkpoint import build_model
from sammed3d.config import SamMed3DConfig, infer_config
from sammed3d.layout import CheckpointMismatch, iter_layouts
from sammed3d.model import SamMed3D


def test_infers_the_fixture_configuration(fidelity_fixture):
    """meta.json holds the arguments the official classes were built with."""
    official = fidelity_fixture.meta["config"]
    config = infer_config(fidelity_fixture.state_dict)
    width = official["encoder_embed_dim"]
    assert config == SamMed3DConfig(
        encoder_embed_dim=width, encoder_depth=official["encoder_depth"], encoder_num_heads=official["encoder_num_heads"],
        encoder_mlp_dim=4 * width, encoder_global_attn_indexes=official["encoder_global_attn_indexes"],
        window_size=official["window_size"], prompt_embed_dim=official["prompt_embed_dim"],
        decoder_attention_dim=official["prompt_embed_dim"] // 2)


@pytest.mark.parametrize("config", [
    PRESETS["tiny"],
    SamMed3DConfig(encoder_embed_dim=64, encoder_depth=5, encoder_num_heads=4, encoder_mlp_dim=256,
                   encoder_global_attn_indexes=[0, 3], window_size=10),
])
def test_infers_configuration_from_shapes(config):
    assert infer_config(random_state_dict(config)) == config


def test_infers_vit_b_from_shapes_alone():
    expected = PRESETS["vit_b"]
    uninitialized = {name: torch.empty(shape) for name, shape, _ in iter_layouts(SamMed3D(expected))}
    assert infer_config(uninitialized) == expected


def _refusal(state_dict) -> str:
    with pytest.raises(CheckpointMismatch) as error:
        build_model(state_dict)
    return str(error.value)


def test_refuses_missing_tensor(fixture_state_dict):
    state_dict = dict(fixture_state_dict)
    del state_dict["mask_decoder.iou_token.weight"]
    assert "missing tensors: mask_decoder.iou_token.weight" in _refusal(state_dict)


def test_refuses_extra_tensor(fixture_state_dict):
    state_dict = dict(fixture_state_dict, **{"image_encoder.blocks.0.attn.extra": torch.zeros(3)})
    assert "unexpected tensors: image_encoder.blocks.0.attn.extra" in _refusal(state_dict)


def test_refuses_misshaped_tensor(fixture_state_dict):
    state_dict = dict(fixture_state_dict, **{"image_encoder.blocks.1.mlp.lin2.bias": torch.zeros(95)})
    assert "mis-shaped tensors: image_encoder.blocks.1.mlp.lin2.bias (95,) (expected (96,))" in _refusal(state_dict)


def test_refuses_missing_tensor_needed_for_inference(fixture_state_dict):
    state_dict = {k: v for k, v in fixture_state_dict.items() if k != "image_encoder.pos_embed"}
    assert "missing tensors: image_encoder.pos_embed" in _refusal(state_dict)


def test_refuses_unsupported_window(fixture_state_dict):
    config = dataclasses.replace(PRESETS["tiny"], window_size=4)
    assert "windows [4]" in _refusal(random_state_dict(config))


def test_cli_names_the_bad_tensor(tmp_path, fixture_state_dict):
    state_dict = dict(fixture_state_dict)
    del state_dict["prompt_encoder.not_a_point_embed.weight"]
    path = tmp_path / "broken.pth"
    torch.save({"model_state_dict": state_dict}, path)
    result = subprocess.run([sys.executable, os.path.join(MODELS_DIR, "export.py"), "--checkpoint", str(path),
                             "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert result.returncode == 2
    assert "missing tensors: prompt_encoder.not_a_point_embed.weight" in result.stderr
    assert not (tmp_path / "out").exists()
