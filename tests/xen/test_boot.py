"""Issue 2's acceptance on Xen 4.17 in QEMU: our images booted with `xl create` from a Linux
dom0 (hello logs and powers off; an uncaught exception crashes the domain after printing
its traceback; the REPL answers what is typed into `xl console`). The fast path, the kernel
booted as dom0 by Xen itself, is in test_boot_dom0.py: it needs the rig while this module's
boot holds it."""
import os
import re
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from rig import XenRig, morgana_build, retarget_xl  # noqa: E402
from morgana import logs  # noqa: E402

BUILD = os.path.join(ROOT, "build", "xentest")
FLOOD = 5000     # log lines the flood app writes


def image(config, *options):
    """Build configs/NAME.py (or a test app) for xen-x86_64 into build/xentest/NAME."""
    name = os.path.basename(config)[:-3]
    d = morgana_build(config, BUILD, *options)
    with open(os.path.join(d, name + ".xl")) as f:
        xl = retarget_xl(f.read(), "/guest/%s.xen" % name, on_poweroff="preserve",
                         on_crash="preserve")
    return {"/guest/%s.xen" % name: os.path.join(d, name + ".xen"),
            "/guest/%s.xl" % name: xl.encode()}


@pytest.fixture(scope="module")
def rig():
    return XenRig()


@pytest.fixture(scope="module")
def dom0(rig):
    files = {}
    files.update(image("configs/hello.py", "SCALE=0.05", "ITERATIONS=4"))
    files.update(image("tests/xen/apps/crash.py"))
    files.update(image("configs/repl.py"))
    files.update(image("tests/xen/apps/flood.py", "LINES=%d" % FLOOD))
    # the flood's console is checked in dom0: shipping it over the rig's serial is slow
    # (busybox awk reads 000010 as octal: hence the zeros stripped)
    script = """
xl_create /guest/hello.xl
wait_exit hello 120
show_console hello
xl_create /guest/crash.xl
wait_exit crash 120
show_console crash
xl_create /guest/flood.xl
wait_exit flood 300
log=$(guest_log flood)
echo "@@ flood-lines $(tr -d '\\r' < $log | awk 'BEGIN { p = -1 } /\\] flood [0-9]+ x+$/ && length($7) == 40 { v = $6; sub(/^0+/, "", v); v += 0; if (v <= p) bad++; p = v; n++ } END { print n + 0, bad + 0 }')"
echo "@@ flood-dropped $(sed -n 's/.*\\[console: \\([0-9]*\\) bytes dropped\\].*/\\1/p' $log | awk '{ s += $1 } END { print s + 0 }')"
echo "@@ flood-done $(grep -c 'flood: done' $log)"
"""
    s = rig.boot(files=files, script=script, name="test_boot", timeout=400, shell=True)
    yield s
    s.close()


def console_of(session, guest):
    if not session.find(r"@@ console %s end" % guest):
        session.expect(r"@@ console %s end" % guest, 300)
    m = re.search(r"@@ console %s begin\n(.*?)@@ console %s end" % (guest, guest),
                  session.text, re.S)
    return m.group(1).replace("\r", "")


def test_hello_logs_interleave_and_powers_off(dom0):
    assert dom0.expect(r"@@ exit hello (\w+)\n", 300).group(1) == "poweroff"
    out = console_of(dom0, "hello")
    lines = re.findall(r"hello from instance (\d) iteration (\d)", out)
    assert len(lines) == 5 * 4, out
    assert lines[:5] == [(str(n), "0") for n in range(1, 6)]     # all start at once
    # instance 1 (sleeping 1 unit) runs its 4 iterations before instance 4 reaches its 2nd
    order = [(int(n), int(i)) for n, i in lines]
    assert order.index((1, 3)) < order.index((4, 1)), order


def test_uncaught_exception_crashes_domain_with_traceback(dom0):
    assert dom0.expect(r"@@ exit crash (\w+)\n", 300).group(1) == "crash"
    out = console_of(dom0, "crash")
    assert "Traceback (most recent call last):" in out
    assert "ValueError: boom from the unikernel at depth 3" in out
    assert out.count(", in check") >= 3                  # the frames of the recursion


def test_log_flood_never_blocks_and_losses_are_counted(dom0):
    assert dom0.expect(r"@@ exit flood (\w+)\n", 400).group(1) == "poweroff"
    m = dom0.expect(r"@@ flood-lines (\d+) (\d+)\n", 60)
    intact, disorder = int(m.group(1)), int(m.group(2))
    dropped = int(dom0.expect(r"@@ flood-dropped (\d+)\n", 60).group(1))
    assert dom0.expect(r"@@ flood-done (\d+)\n", 60).group(1) == "1"   # last words kept
    assert disorder == 0                      # what arrives comes in the order written
    # every line that did not arrive whole is covered by a drop report, and the reports
    # count no more bytes than those lines hold (CR added before each LF)
    line = len(logs.format_line(0, logs.INFO, "flood", "flood %06d %s" % (0, "x" * 40))) + 1
    missing = FLOOD - intact
    print("flood: %d of %d lines intact, %d bytes reported dropped" % (intact, FLOOD, dropped))
    assert intact > 0
    if missing:
        assert dropped > 0, "%d lines lost without a drop report" % missing
    assert dropped <= missing * line, (dropped, missing, line)


def test_repl_evaluates_what_is_typed_into_xl_console(dom0):
    # sh() waits for dom0's prompt, which follows the whole boot script
    rc, out = dom0.sh("xl_create /guest/repl.xl && wait_console repl '>>> ' 60")
    assert rc == 0, out
    dom0.attach("repl")
    dom0.send("6*7, 2**70\r")
    dom0.expect(r"\(42, 1180591620717411303424\)", 30)
    dom0.send("\x04")                                    # Ctrl-D: leave the REPL
    dom0.detach()
    rc, out = dom0.sh("wait_exit repl 60", 90)
    assert "@@ exit repl poweroff" in out
