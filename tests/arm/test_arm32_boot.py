"""The arm32 boot layer (kernel/arm32) under Xen 4.17 on the emulated Cortex-A7.

kernel/arm32/selftest links the boot layer with the common console/memory code and a
self-test (no MicroPython), cross-compiled with Debian's gcc-arm-linux-gnueabihf; each
check prints `ok:` or `FAIL:` and the run ends with one verdict line.
"""
import os
import re
import shutil
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tools", "armrig"))
import armrig as rig  # noqa: E402

IMAGE = os.path.join(TOP, "build", "arm32", "selftest", "selftest.zimage")
CHECKS = ["MMU, caches, Thumb exceptions on", "Thumb-2 code, SVC mode", "hvc #0xEA1: Xen 4.17",
          "device tree:", "page allocator:", "RAM read back", "shared_info mapped",
          "generic timer: blocked", "event channel", "grant table frame"]


def build():
    assert shutil.which("arm-linux-gnueabihf-gcc"), "needs gcc-arm-linux-gnueabihf (tools/deps.sh arm)"
    out = subprocess.run(["make", "-C", os.path.join(TOP, "kernel", "arm32", "selftest")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return IMAGE


def test_selftest_image_is_a_zimage_xen_loads_at_its_link_address():
    data = open(build(), "rb").read()
    magic, start, end = (int.from_bytes(data[o:o + 4], "little") for o in (0x24, 0x28, 0x2c))
    assert magic == 0x016F2818
    assert start == 0x40008000 and end - start == len(data)
    assert data[:4] == bytes.fromhex("0b0000ea")  # ARM-state branch over the header


def test_dom0less_selftest_passes():
    image = build()
    ok, secs, text = rig.boot_dom0less(image, args="morgana.test=1",
                                       until=r"MORGANA-ARM32-SELFTEST-(OK|FAILED)", timeout=120)
    lines = [l for l in text.splitlines() if "DOM1:" in l]
    print("\n".join(lines) + "\narm32 dom0less selftest: %.1f s" % secs)
    assert ok
    assert "Loading zImage from 0000000050000000 to 0000000040008000" in text
    assert "cmdline 'morgana.test=1'" in text
    for c in CHECKS:
        assert re.search(r"DOM1: ok: +" + re.escape(c), text), c
    assert "FAIL:" not in text
    assert "MORGANA-ARM32-SELFTEST-OK" in text


def test_xl_created_selftest_uses_pv_console_and_xenstore_params():
    """Started by `xl create` in a Linux dom0: output goes through the PV console ring
    (xenconsoled's log), and the HVM params name the xenstore and console pages."""
    image = build()
    cfg = 'name = "selftest"\nkernel = "/guest/k"\nmemory = 32\nvcpus = 1\nextra = "via xl"\n'
    ok, secs, text = rig.boot_xl_create(cfg, [(image, "guest/k")],
                                        "MORGANA-ARM32-SELFTEST-(OK|FAILED)", timeout=150)
    lines = [l for l in text.splitlines() if l.startswith("domU:")]
    print("\n".join(lines) + "\narm32 xl create selftest: %.1f s" % secs)
    assert ok
    assert "domU: morgana-arm32: Thumb-2 guest up, 32 MiB RAM, cmdline 'via xl'" in text
    for c in CHECKS:
        assert re.search(r"domU: ok: +" + re.escape(c), text), c
    assert re.search(r"domU: morgana-arm32: store evtchn [1-9]\d* page 0xf10\w+, "
                     r"console evtchn [1-9]\d* page 0xf10\w+", text)
    assert "domU: MORGANA-ARM32-SELFTEST-OK" in text
