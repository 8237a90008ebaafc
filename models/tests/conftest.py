import os
import sys

import pytest

MODELS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, MODELS_DIR)

# The shared fidelity fixtures live beside the repository (../shared), in CI as here.
FIXTURE_A = os.path.join(os.path.dirname(MODELS_DIR), "..", "shared", "fixtures", "sam-med3d", "fixture-a")


@pytest.fixture(scope="session")
def fixture_state_dict():
    from sammed3d.checkpoint import read_state_dict
    return read_state_dict(os.path.join(FIXTURE_A, "checkpoint.pth"))
