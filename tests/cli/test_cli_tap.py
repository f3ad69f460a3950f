# www on the unix-tap target: our own TCP/IP stack (MicroPython) on a TAP device inside a
# network namespace made for the test; curl from the namespace gets htdocs/. Needs root.
import os
import subprocess

from cli_helpers import TOP, MORGANA, morgana


def _sh(*cmd):
    subprocess.run(list(cmd), check=True, capture_output=True, timeout=30)


def test_www_on_tap_serves_htdocs(bdir):
    ns = "mgcli%d" % os.getpid()
    _sh("ip", "netns", "add", ns)
    p = None
    try:
        ex = ["ip", "netns", "exec", ns]
        _sh(*ex, "ip", "link", "set", "lo", "up")
        _sh(*ex, "ip", "tuntap", "add", "dev", "tap0", "mode", "tap")
        _sh(*ex, "ip", "addr", "add", "10.0.0.1/24", "dev", "tap0")
        _sh(*ex, "ip", "link", "set", "tap0", "up")
        morgana(bdir, "configure", "configs/www.py", "--target", "unix-tap",
                "IP=10.0.0.2", "PORT=80")
        morgana(bdir, "build")
        p = subprocess.Popen(ex + [MORGANA, "-B", str(bdir), "run"], cwd=TOP,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        lines = [p.stdout.readline().decode() for _ in range(2)]
        assert "network up: 10.0.0.2" in lines[0], lines
        for name in ("index.html", "style.css", "mirage.png"):
            r = subprocess.run(ex + ["curl", "-s", "-S", "--max-time", "10",
                                     "http://10.0.0.2/" + name],
                               capture_output=True, timeout=30)
            assert r.returncode == 0, r.stderr
            with open(os.path.join(TOP, "htdocs", name), "rb") as f:
                assert r.stdout == f.read(), name
    finally:
        if p is not None:
            p.terminate()
            p.wait(timeout=10)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
