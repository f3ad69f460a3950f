# Fixtures of the morgana command tests; helpers live in cli_helpers.py (a unique module
# name: several test directories have a conftest.py).
import pytest


@pytest.fixture
def bdir(tmp_path):
    """A fresh build directory root for `morgana -B`."""
    return tmp_path / "build"
