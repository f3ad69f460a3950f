"""The fast path of issue 2: Xen boots our image directly as dom0 (no Linux, no toolstack);
its console is console_io to Xen's serial line."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rig import XenRig  # noqa: E402
from test_boot import image  # noqa: E402


@pytest.fixture(scope="module")
def rig():
    return XenRig()


def test_kernel_boots_as_dom0(rig):
    """hello runs to its end as dom0, then dom0 powers off (Xen halts)."""
    files = image("configs/hello.py", "SCALE=0.02", "ITERATIONS=2")
    with rig.boot_as_dom0(files["/guest/hello.xen"], timeout=120) as s:
        s.expect(r"hello from instance 5 iteration 1", 100)
        s.wait()
        assert "Hardware Dom0 halted" in s.text          # app ended: dom0 powered off
