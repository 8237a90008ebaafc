import os
import sys

import pytest

MODELS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, MODELS_DIR)

FIXTURE_A = "/work/shared/fixtures/sam-med3d/fixture-a"


@pytest.fixture(scope="session")
def fixture_state_dict():
    from sammed3d.checkpoint import read_state_dict
    return read_state_dict(os.path.join(FIXTURE_A, "checkpoint.pth"))
