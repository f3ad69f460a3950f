# dig (Debian dnsutils) against the DNS server on 127.0.0.1, run by CPython and by
# MicroPython's Unix port through tests/dns/run_server.py (host sockets, same app code).
# The tests are tests/dns/dig_matrix.py's; this file gives them their `server`.
import os
import subprocess
import sys

import pytest

from dig_matrix import IDLE, ROOT, ZONE
from dig_matrix import *  # noqa: F401,F403  the matrix's test_* functions
sys.path.insert(0, os.path.join(ROOT, "tests", "xen"))
from rig import free_port  # noqa: E402

MICROPYTHON = os.path.join(ROOT, "build", "unix", "micropython")
RUNNER = os.path.join(ROOT, "tests", "dns", "run_server.py")
MORGANA = os.path.join(os.path.dirname(sys.executable), "morgana")


def morgana_cmd(kind, port, build_dir, env):
    """configs/dns.py through the real tool: configure + build, then `morgana run`."""
    env["MORGANA_BUILD"] = build_dir
    for args in (["configure", "configs/dns.py", "--target", "unix-socket", "PORT=%d" % port,
                  "IP=127.0.0.1", "TCP_IDLE=%s" % IDLE], ["build"]):
        r = subprocess.run([MORGANA] + args, cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
    return [MORGANA, "run", "--python", kind]


@pytest.fixture(scope="module", params=["cpython", "micropython", "morgana-micropython",
                                        "morgana-cpython"])
def server(request, tmp_path_factory):
    port = free_port(udp=True)
    env = dict(os.environ)
    if request.param.startswith("morgana-"):
        if not os.path.exists(MORGANA):
            pytest.fail("the morgana tool is not installed in the venv (pip install -e .)")
        cmd = morgana_cmd(request.param[8:], port, str(tmp_path_factory.mktemp("mb")), env)
    elif request.param == "cpython":
        cmd = [sys.executable, RUNNER, ZONE, str(port), str(IDLE)]
        env["PYTHONPATH"] = os.pathsep.join([os.path.join(ROOT, "pylib"),
                                             os.path.join(ROOT, "tests", "dns")])
    else:
        if not os.path.exists(MICROPYTHON):
            pytest.fail("build/unix/micropython missing: run make unix")
        cmd = [MICROPYTHON, RUNNER, ZONE, str(port), str(IDLE)]
        env["MICROPYPATH"] = os.pathsep.join([os.path.join(ROOT, "pylib"),
                                              os.path.join(ROOT, "tests", "dns")])
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    seen = []
    for _ in range(5):  # a log line or two, then "ready PORT"
        seen.append(proc.stdout.readline().decode())
        if seen[-1].startswith("ready") or "dns: serving" in seen[-1] or \
                proc.poll() is not None:
            break
    if not (seen[-1].startswith("ready") or "dns: serving" in seen[-1]):
        proc.kill()
        pytest.fail("server did not start: " + "".join(seen))
    yield port
    proc.terminate()
    proc.wait(5)
