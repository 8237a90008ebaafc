"""The PyTorch baseline of bench_torch.py (official op choices) computes our plain encoder's function."""
import os

import numpy as np
import pytest
import torch

from bench_torch import OfficialEagerEncoder, loaded_blas
from sammed3d.checkpoint import build_model
from sammed3d.model import EncoderGraph


def relative_error(actual: torch.Tensor, reference: torch.Tensor) -> float:
    return float((actual - reference).abs().max() / reference.abs().max())


def test_official_eager_encoder_equals_our_plain_encoder_and_the_fixture(fidelity_fixture):
    image = fidelity_fixture.load("roi_image")
    model = build_model(fidelity_fixture.state_dict, optimized=False)
    with torch.no_grad():
        official = OfficialEagerEncoder(fidelity_fixture.state_dict, model.config)(image)
        ours = EncoderGraph(model)(image)
    reference = fidelity_fixture.load("embeddings")
    assert official.shape == ours.shape == reference.shape
    assert relative_error(official, ours) <= 1e-5
    assert relative_error(official, reference) <= 1e-5


@pytest.mark.skipif("BLAS_INFO=generic" not in torch.__config__.show(), reason="torch has its BLAS built in")
def test_loaded_blas_names_the_system_blas_torch_multiplies_with():
    """Debian's torch calls the system libblas.so.3, whichever package provides it."""
    blas = loaded_blas()
    assert blas and all(os.path.isfile(path) and "blas" in os.path.basename(path) for path in blas)
