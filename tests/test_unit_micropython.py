"""The portable unit tests (tests/unit/test_*.py) again, on MicroPython's Unix port built
from Debian's source: one pytest case per test module, run by tests/mprun.py."""
import glob
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MICROPYTHON = os.path.join(ROOT, "build", "unix", "micropython")
MODULES = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, "tests", "unit", "test_*.py")))
PATH = ":".join(os.path.join(ROOT, p) for p in
                ("pylib", "drivers/console", "drivers/netfront", "drivers/blkfront", "tests/unit"))


@pytest.mark.parametrize("module", MODULES)
def test_module_on_micropython(module):
    assert os.path.exists(MICROPYTHON), "build the Unix port first: make unix"
    r = subprocess.run([MICROPYTHON, "-X", "heapsize=256M", os.path.join(ROOT, "tests", "mprun.py"), module],
                       env=dict(os.environ, MICROPYPATH=PATH), capture_output=True, text=True,
                       timeout=600, cwd=ROOT)
    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    assert r.returncode == 0 and last.endswith(" 0 failed") and not last.startswith("0 passed"), \
        "micropython %s:\n%s\n%s" % (module, r.stdout[-3000:], r.stderr[-2000:])
