"""Xen 4.17 armhf on QEMU's emulated Cortex-A7 (TCG): the rig in tools/armrig.

Needs qemu-system-arm, dtc and apt access to Debian's armhf packages (tools/deps.sh arm);
without them these tests fail and say which tool is missing. About 45 s of TCG in all.
"""
import gzip
import os
import re
import shutil
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tools", "armrig"))
import dtb  # noqa: E402
import initrd  # noqa: E402
import armrig as rig  # noqa: E402


def need_tools():
    missing = [t for t in ("qemu-system-arm", "dtc", "readelf", "apt-get") if not shutil.which(t)]
    assert not missing, "ARM rig needs %s (run tools/deps.sh arm)" % " ".join(missing)


def report(name, ok, secs, text):
    print("%s: %s in %.1f s" % (name, "ok" if ok else "FAILED", secs))
    if not ok:
        print(text[-6000:])


def test_chosen_nodes_compile_and_carry_addresses(tmp_path):
    need_tools()
    base = dtb.remove_top_node(dtb.dump_machine_dts(rig.MACHINE, str(tmp_path)), "pcie@")
    assert "pcie@" not in base and "pl011@9000000" in base
    k = dtb.kernel("k", 0x50000000, 0x123456, bootargs="console=ttyAMA0")
    d = dtb.DomU("domU1", 65536, [k])
    r = dtb.ramdisk("r", 0x51000000, 0x1000)
    text = dtb.add_to_chosen(base, dtb.chosen_dts("console=dtuart", "console=hvc0", [r], [d]))
    out = dtb.compile_dts(text, str(tmp_path / "t.dtb"))
    back = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", out],
                          capture_output=True, text=True, check=True).stdout
    assert 'xen,xen-bootargs = "console=dtuart";' in back
    assert 'xen,dom0-bootargs = "console=hvc0";' in back
    assert "reg = <0x51000000 0x1000>;" in back
    assert re.search(r'domU1 \{[^}]*compatible = "xen,domain";[^}]*memory = <0x00 0x10000>;'
                     r'[^}]*vpl011;', back, re.S)
    assert "reg = <0x50000000 0x123456>;" in back


def test_dom0_initramfs_holds_xl_and_its_libraries(tmp_path):
    need_tools()
    rig.fetch()
    out = str(tmp_path / "d.cpio.gz")
    initrd.build("dom0", out)
    listing = subprocess.run(["cpio", "-t", "--quiet"], input=gzip.decompress(open(out, "rb").read()),
                             capture_output=True, check=True).stdout.decode()
    names = set(listing.split())
    for f in ("init", "bin/busybox", "usr/lib/xen-4.17/bin/xl", "usr/lib/xen-4.17/bin/xenstored",
              "usr/lib/arm-linux-gnueabihf/libxenlight.so.4.17", "lib/ld-linux-armhf.so.3",
              "lib/arm-linux-gnueabihf/libc.so.6", "lib/rig-modules/xenfs.ko",
              "lib/rig-modules/order", "dev/console"):
        assert f in names, f


def test_dom0_runs_xl_info():
    need_tools()
    ok, secs, text = rig.boot_dom0(timeout=150)
    report("dom0 xl info", ok, secs, text)
    assert ok
    assert "RIG-DOM0-XL-INFO-OK" in text
    assert re.search(r"xen_version\s+: 4\.17", text)
    assert re.search(r"machine\s+: armv7l", text)


def test_dom0less_linux_domu_console_on_serial():
    need_tools()
    ok, secs, text = rig.boot_dom0less(timeout=120)
    report("dom0less", ok, secs, text)
    assert ok
    assert "LOADING DOMAIN 0" not in text  # Xen alone built the guest
    assert re.search(r"DOM1: RIG-DOMU-LINUX-OK armv7l console=ttyAMA0", text)


def test_dom0_xl_create_linux_domu():
    need_tools()
    ok, secs, text = rig.boot_xl_create_linux(timeout=150)
    report("xl create", ok, secs, text)
    assert ok
    assert "RIG-XL-CREATE-OK" in text
