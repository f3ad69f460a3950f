"""MicroPython unikernels (configs/hello.py, configs/www.py) on arm32 under Xen 4.17 on
the emulated Cortex-A7: hello boots dom0less; www is started by `xl create` in a Linux
dom0 with a vif on xenbr0 (QEMU's user LAN) and the host fetches a page from it.

Images come from tools/armrig/build-arm32-image.sh (kernel/Makefile with ARCH=arm32, named
as the rig expects), from manifests `morgana -B build/arm32/cfg` writes.
"""
import os
import re
import subprocess
import sys
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tools", "armrig"))
import armrig as rig  # noqa: E402

CFG = os.path.join(TOP, "build", "arm32", "cfg")
MORGANA = os.path.join(TOP, ".cache", "venv", "bin", "morgana")


def image(config, *options):
    name = os.path.basename(config)[:-3]
    subprocess.run([MORGANA, "-B", CFG, "configure", config, "--target", "xen-arm32"] + list(options),
                   check=True, capture_output=True)
    # its arm32 kernel step fails until kernel/common is arm32-clean; the manifest is what we need
    subprocess.run([MORGANA, "-B", CFG, "build"], capture_output=True)
    assert os.path.isfile(os.path.join(CFG, name, "manifest.py"))
    out = subprocess.run([os.path.join(TOP, "tools", "armrig", "build-arm32-image.sh"), name, CFG],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    path = os.path.join(TOP, "build", "arm32", name, name + ".zimage")
    data = open(path, "rb").read()
    assert int.from_bytes(data[0x24:0x28], "little") == 0x016F2818
    print("%s.zimage (arm32): %d bytes (%.0f KiB)" % (name, len(data), len(data) / 1024))
    return path, len(data)


def test_hello_boots_dom0less_and_its_loops_sleep():
    path, _ = image(os.path.join(TOP, "configs", "hello.py"), "SCALE=0.05", "ITERATIONS=3", "LOOPS=2")
    ok, secs, text = rig.boot_dom0less(path, args="", until=r"instance 2 iteration 2", timeout=120)
    print("\n".join(l for l in text.splitlines() if "DOM1" in l)[-3000:])
    print("hello arm32 dom0less: %.1f s" % secs)
    assert ok
    for n in (1, 2):
        for i in range(3):
            assert re.search(r"DOM1: .*hello from instance %d iteration %d" % (n, i), text)
    # ARMv7 has no RNG instruction and dom0less hands over no seed: the pool says so
    assert re.search(r"DOM1: .*\[entropy\] pool from jitter\+clock .*WEAK", text), text[-3000:]


def test_www_under_xl_answers_http_from_the_host():
    path, size = image(os.path.join(TOP, "configs", "www.py"), "DHCP=no", "IP=10.0.2.15",
                       "GATEWAY=10.0.2.2")
    assert size < 1024 * 1024, "www for arm32 must stay under 1 MiB"
    cfg = 'name = "www"\nkernel = "/guest/k"\nmemory = 32\nvcpus = 1\nvif = [ "bridge=xenbr0" ]\n'

    port = rig.free_port()

    def get(_text):
        with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=30) as r:
            body = r.read()
            return "HTTP-GET %d %d %s" % (r.status, len(body), body[:400].decode("latin-1"))
    ok, secs, text = rig.boot_xl_create(cfg, [(path, "guest/k")], "http: serving on port 80",
                                        timeout=170, forwards=[(port, "10.0.2.15", 80)], then=get)
    print("\n".join(l for l in text.splitlines() if l.startswith(("domU:", "HTTP-GET"))))
    print("www arm32 via xl: %.1f s" % secs)
    assert ok
    assert "domU: " in text and "network up: 10.0.2.15" in text
    m = re.search(r"HTTP-GET (\d+) (\d+) ", text)
    assert m and m.group(1) == "200" and int(m.group(2)) > 100
    assert "<title>Morgana" in text
