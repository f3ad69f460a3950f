# Helpers for tests driving the `morgana` command (CPython/pytest only).
import os
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MORGANA = os.path.join(os.path.dirname(sys.executable), "morgana")
MICROPYTHON = os.path.join(TOP, "build", "unix", "micropython")


def morgana(build_dir, *args, check=True, timeout=120, env=None):
    """Run `morgana -B build_dir ARGS` from the source tree (env: variables to set on
    top of ours); CompletedProcess."""
    full = None if env is None else dict(os.environ, **env)
    r = subprocess.run([MORGANA, "-B", str(build_dir)] + list(args), cwd=TOP,
                       capture_output=True, text=True, timeout=timeout, env=full)
    if check and r.returncode != 0:
        raise AssertionError("morgana %s failed (%d):\n%s%s"
                             % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r
