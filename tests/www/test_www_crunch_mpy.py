# The crunched site compiled by mpy-cross (what freezing into the kernel does) with the
# heap crunch.mpy_cross_heap recommends, then loaded as .mpy by MicroPython: every file's
# bytes, mtime and type survive (big files as their chunks), and the .mpy is barely larger
# than the data itself.
import os
import subprocess

from morgana.host import crunch

import www_rig

MPY_CROSS = os.path.join(www_rig.TOP, ".cache", "micropython", "mpy-cross", "build",
                         "mpy-cross")

CHECK = r"""
import sys, hashlib, binascii
sys.path.insert(0, %r)
import _htdocs
for n in sorted(_htdocs.FILES):
    mt, ct, data = _htdocs.FILES[n]
    if isinstance(data, tuple):         # a file over crunch.CHUNK: its chunks
        data = b"".join(data)
    print(n, mt, ct.split(';')[0], len(data), binascii.hexlify(hashlib.sha256(data).digest()).decode())
"""


def test_mpy_cross_freezes_the_site(site, tmp_path):
    entries = crunch.collect(site)
    total = sum(len(e[2]) for e in entries)
    src = tmp_path / "_htdocs.py"
    crunch.write_module(site, str(src))
    mpy_dir = tmp_path / "mpy"
    mpy_dir.mkdir()
    out = mpy_dir / "_htdocs.mpy"
    r = subprocess.run([MPY_CROSS, "-X", "heapsize=%d" % crunch.mpy_cross_heap(total),
                        "-o", str(out), str(src)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert total < os.path.getsize(out) < total + 4096 + 200 * len(entries)
    r = subprocess.run([www_rig.MICROPYTHON, "-X", "heapsize=64M", "-c",
                        CHECK % str(mpy_dir)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + r.stdout
    import hashlib
    want = ["%s %d %s %d %s" % (n, mt, crunch.mimetypes.guess(n).split(";")[0], len(d),
                                hashlib.sha256(d).hexdigest()) for n, mt, d in entries]
    assert r.stdout.strip().split("\n") == want
