# hello through the morgana command: the five loops interleave exactly as in the Mirage
# tutorial's screenshot (seeds: `./hello` on Unix), on MicroPython and on CPython.
import re
import subprocess

import pytest

from cli_helpers import morgana, MICROPYTHON

# (instance, iteration) of the first 24 lines of the screenshot, t = 0..9 s
SCREENSHOT = [(1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (1, 1), (2, 1), (1, 2), (3, 1),
              (1, 3), (4, 1), (2, 2), (1, 4), (5, 1), (1, 5), (3, 2), (2, 3), (1, 6),
              (1, 7), (4, 2), (2, 4), (1, 8), (3, 3), (1, 9)]
LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \[INFO\] \[application\] "
                  r"hello from instance (\d) iteration (\d+)$")


def expected(loops, iterations):
    """All lines in order: logical time, then registration order (Lwt's timers)."""
    import heapq
    heap = []
    seq = 0
    out = []
    for n in range(1, loops + 1):
        heapq.heappush(heap, (0, seq, n, 0))
        seq += 1
    while heap:
        t, _, n, i = heapq.heappop(heap)
        out.append((n, i))
        if i + 1 < iterations:
            heapq.heappush(heap, (t + n, seq, n, i + 1))
            seq += 1
    return out


def test_expected_model_matches_screenshot():
    assert expected(5, 10)[:24] == SCREENSHOT


@pytest.mark.parametrize("python", ["micropython", "cpython"])
def test_hello_interleaving(bdir, python):
    morgana(bdir, "configure", "configs/hello.py", "--target", "unix-socket",
            "SCALE=0.05", "ITERATIONS=10")
    out = morgana(bdir, "build").stdout
    assert "built hello" in out
    r = morgana(bdir, "run", "--python", python, timeout=60)
    got = []
    for line in r.stdout.splitlines():
        m = LINE.match(line)
        assert m, "unexpected output line %r" % line
        got.append((int(m.group(2)), int(m.group(3))))
    assert got[:24] == SCREENSHOT, got[:24]
    assert got == expected(5, 10)
    assert len(got) == 50


def test_hello_bad_option_named(bdir):
    r = morgana(bdir, "configure", "configs/hello.py", "SCALE=fast", check=False)
    assert r.returncode == 1
    assert "option SCALE: 'fast' is not a number" in r.stderr
    r = morgana(bdir, "configure", "configs/hello.py", "LOOPZ=3", check=False)
    assert r.returncode == 1
    assert "unknown option LOOPZ for hello" in r.stderr and "LOOPS" in r.stderr
