"""Shared by the tests/xen files: one XenRig (runs tools/xenrig/setup.sh once)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from rig import XenRig  # noqa: E402


@pytest.fixture(scope='session')
def rig():
    return XenRig()
