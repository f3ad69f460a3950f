"""MicroPython's own asyncio tests (tests/extmod/asyncio_*.py and the loopback ones of
tests/net_hosted from Debian's MicroPython source) on the Unix port with OUR asyncio:
`import asyncio` finds pylib/compat/asyncio (morgana.aio over morgana.sched; the port has
no asyncio of its own). Expected output: the test's .exp, else what CPython prints, as
MicroPython's run-tests.py does (stderr merged into stdout). For comparison the table
also shows MicroPython's own extmod/asyncio run from the same source tree ("mp-own"; its
asyncio_as_uasyncio fails there only because its `uasyncio` alias comes from its freeze
manifest).

Measured (2 cores, Debian MicroPython 1.25): 30 of 33 pass (extmod 28/30, net_hosted
2/2, micropython/ringio_async 0/1); the floor below leaves 2 for the timing-sensitive
tests (asyncio_basic, asyncio_wait_task and asyncio_gather round or order by real time)
on a loaded machine.
"""
import glob
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MPY = os.path.join(ROOT, ".cache", "micropython")
MICROPYTHON = os.path.join(ROOT, "build", "unix", "micropython")
OURS = os.pathsep.join([os.path.join(ROOT, "pylib", "compat"), os.path.join(ROOT, "pylib")])
THEIRS = os.path.join(MPY, "extmod")          # MicroPython's extmod/asyncio package

FLOOR = 28

# Tests that are expected to fail with our asyncio, and why.
KNOWN = {
    "extmod/asyncio_heaplock.py":
        "loop internals: checks that scheduling allocates nothing under "
        "micropython.heap_lock(); sched's timer heap and run queue allocate tuples, and "
        "its StreamWriter wraps a raw stream object with write() (ours wrap a flow)",
    "micropython/ringio_async.py":
        "asyncio.StreamWriter over a raw MicroPython stream (micropython.RingIO) polled by "
        "the loop; our streams wrap the network stack's flows (nothing to poll)",
    "extmod/asyncio_gather_notimpl.py":
        "tests MicroPython's limitations (RuntimeError \"can't wait\"/\"can't gather\" "
        "for a task both gathered and awaited); ours supports both, as CPython does",
}

# Not run at all.
NOT_RUN = {
    "multi_net/asyncio_*": "needs two cooperating instances (run-multitests.py); the "
                           "same stream paths run in tests/unit/test_aio_streams.py",
    "net_inet/asyncio_*": "needs the Internet (and TLS, which the streams do not offer)",
}

# net_hosted tests bind fixed ports: moved to ports of this run
PORTS = {"8080": None, "8000": None}


def _tests():
    names = ["extmod/" + os.path.basename(p) for p in
             sorted(glob.glob(os.path.join(MPY, "tests", "extmod", "asyncio_*.py")))]
    names += ["net_hosted/" + os.path.basename(p) for p in
              sorted(glob.glob(os.path.join(MPY, "tests", "net_hosted", "asyncio_*.py")))]
    names.append("micropython/ringio_async.py")     # the other test that uses asyncio
    return names


def _ports():
    if PORTS["8080"] is None:
        base = 21000 + (os.getpid() % 500) * 16
        PORTS["8080"] = str(base)
        PORTS["8000"] = str(base + 1)
    return PORTS


def _source(name, tmp):
    """Path of the test to run (net_hosted ones copied with this run's ports)."""
    path = os.path.join(MPY, "tests", name)
    if not name.startswith("net_hosted/"):
        return path
    with open(path) as f:
        src = f.read()
    for old, new in _ports().items():
        src = src.replace(old, new)
    out = os.path.join(tmp, os.path.basename(name))
    with open(out, "w") as f:
        f.write(src)
    return out


def _expected(name):
    path = os.path.join(MPY, "tests", name)
    if os.path.exists(path + ".exp"):
        with open(path + ".exp", encoding="utf-8", errors="replace") as f:
            exp = f.read()
        if name.startswith("net_hosted/"):
            for old, new in _ports().items():
                exp = exp.replace(old, new)
        return exp
    r = subprocess.run([sys.executable, os.path.basename(path)], cwd=os.path.dirname(path),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
                       env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    return r.stdout.decode("utf-8", "replace") if r.returncode == 0 else None


def _run(script, path):
    try:
        r = subprocess.run([MICROPYTHON, script], cwd=os.path.dirname(script),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
                           env=dict(os.environ, MICROPYPATH=path))
        return r.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return "TIMEOUT\n"


def _first_diff(out, exp):
    ol, el = out.split("\n"), exp.split("\n")
    for k in range(max(len(ol), len(el))):
        a = ol[k] if k < len(ol) else "<end>"
        b = el[k] if k < len(el) else "<end>"
        if a != b:
            return "line %d: got %r, expected %r" % (k + 1, a[:60], b[:60])
    return ""


def test_our_asyncio_is_the_one_imported():
    assert os.path.exists(MICROPYTHON), "build the Unix port first: make unix"
    code = "import asyncio"
    r = subprocess.run([MICROPYTHON, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, MICROPYPATH=""))
    assert r.returncode != 0 and "asyncio" in r.stderr, \
        "the Unix port has an asyncio of its own now: check which one the tests get"
    code = ("import asyncio, uasyncio\nfrom morgana import sched, aio\n"
            "print(asyncio.Task is aio.Task, issubclass(asyncio.Task, sched.Task), "
            "uasyncio.run is aio.run, asyncio.CancelledError is sched.Cancelled)")
    r = subprocess.run([MICROPYTHON, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, MICROPYPATH=OURS))
    assert r.stdout.strip() == "True True True True", r.stdout + r.stderr


def test_micropython_asyncio_suite_with_our_asyncio(tmp_path):
    assert os.path.exists(MICROPYTHON), "build the Unix port first: make unix"
    names = _tests()
    assert len(names) >= 30, "MicroPython's tests are missing: tools/fetch-micropython.sh"
    theirs = os.path.isdir(os.path.join(THEIRS, "asyncio"))
    rows = []
    for name in names:
        exp = _expected(name)
        script = _source(name, str(tmp_path))
        out = _run(script, OURS)
        ref = _run(script, THEIRS) if theirs else None
        if exp is None:
            verdict = "noref"
        elif out.startswith("SKIP"):
            verdict = "skip"
        else:
            verdict = "pass" if out == exp else "FAIL"
        rv = "-" if ref is None or exp is None else ("pass" if ref == exp else "fail")
        note = KNOWN.get(name, "")
        if verdict == "FAIL" and not note:
            note = "UNEXPECTED: " + _first_diff(out, exp)
        rows.append((name, verdict, rv, note))
    passed = sum(1 for r in rows if r[1] == "pass")
    print("\n%-42s %-6s %-10s %s" % ("test", "ours", "mp-own", "note"))
    for name, v, rv, note in rows:
        print("%-42s %-6s %-10s %s" % (name, v, rv, note))
    for pat, why in sorted(NOT_RUN.items()):
        print("%-42s %-6s %-10s %s" % (pat, "-", "-", "not run: " + why))
    print("ours: %d of %d pass (floor %d); MicroPython's own asyncio: %s"
          % (passed, len(rows), FLOOR,
             "%d pass" % sum(1 for r in rows if r[2] == "pass") if theirs else "not found"))
    assert passed >= FLOOR, "only %d pass (floor %d)" % (passed, FLOOR)
    for name in KNOWN:
        assert name in names, "known failure %s is not in the suite any more" % name
