import gzip
import io
import json
import os
import sys

import numpy as np
import pytest
import torch

MODELS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, MODELS_DIR)
REPO_DIR = os.path.dirname(MODELS_DIR)

# The fidelity fixtures: the compact one in the repository (models/make_fixture.py) always; fixture A
# (wider encoder, turbo-sized decoder) as an extra check when ../shared holds it.
FIXTURES = {
    "mini": os.path.join(REPO_DIR, "tests", "fixtures", "sam-med3d-mini"),
    "fixture-a": os.path.join(REPO_DIR, "..", "shared", "fixtures", "sam-med3d", "fixture-a"),
}
MINI = FIXTURES["mini"]


class Fixture:
    """One fixture directory: meta.json, the checkpoint and the reference arrays."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.checkpoint = os.path.join(path, "checkpoint.pth")
        with open(os.path.join(path, "meta.json")) as f:
            self.meta = json.load(f)
        from sammed3d.checkpoint import read_state_dict
        self.state_dict = read_state_dict(self.checkpoint)

    def load(self, name: str) -> torch.Tensor:
        """`name`.npy, or `name`.npy.gz; a quantized array (meta.json: scale, offset) as its float32 values."""
        path = os.path.join(self.path, f"{name}.npy")
        if os.path.exists(path):
            array = np.load(path)
        else:
            with gzip.open(f"{path}.gz") as f:
                array = np.load(io.BytesIO(f.read()))
        quantized = self.meta.get(name)
        if isinstance(quantized, dict) and "scale" in quantized:
            array = (array.astype(np.float32) - quantized["offset"]) * np.float32(quantized["scale"])
        return torch.from_numpy(array)


_loaded = {}


def open_fixture(name: str) -> Fixture:
    path = FIXTURES[name]
    if not os.path.isdir(path):
        pytest.skip(f"extra check skipped: {name} is not present at {os.path.normpath(path)}")
    if name not in _loaded:
        _loaded[name] = Fixture(path)
    return _loaded[name]


@pytest.fixture(scope="session", params=list(FIXTURES))
def fidelity_fixture(request) -> Fixture:
    """Each fidelity fixture in turn (fixture A skipped, with the reason, when absent)."""
    return open_fixture(request.param)


@pytest.fixture(scope="session")
def fixture_state_dict():
    """The in-repo fixture's tensors, for tests that need any official-layout checkpoint."""
    return open_fixture("mini").state_dict
