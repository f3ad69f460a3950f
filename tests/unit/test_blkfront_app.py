# tests/xen/configs/xentest_blk.py (the in-Xen blkfront test app) run against the fake blkback,
# checking its printed checksums against what the "dom0" side sees in the disk.
import sys
import hashlib
import binascii

import fake_xen
from fake_xenstored import FakeXenstored
from fake_blkback import FakeBlkback
from morgana.xen import ring as R

# tests/xen/configs/ holds the test apps (found from this file, whatever the working directory)
_CONFIGS = (__file__.rsplit("/", 1)[0] if "/" in __file__ else ".") + "/../xen/configs"
if _CONFIGS not in sys.path:
    sys.path.append(_CONFIGS)
import xentest_blk


class Env:
    def __init__(self, **kw):
        self.kw = kw

    def get(self, k):
        return self.kw[k]


def _sha(b):
    return binascii.hexlify(hashlib.sha256(b).digest()).decode()


def _sha_disk(bb, first, count):
    # piecewise: MicroPython's small heap has no room for the whole region at once
    h = hashlib.sha256()
    for s in range(first, first + count, 64):
        h.update(bb.read_sectors(s, min(64, first + count - s)))
    return binascii.hexlify(h.digest()).decode()


def _field(line, key):
    for w in line.split():
        if w.startswith(key + "="):
            return w[len(key) + 1:]
    raise KeyError(key)


def test_app_checksums_match_dom0_view():
    fake_xen.reset()
    R.log = lambda m: None
    d = FakeXenstored()
    bb = FakeBlkback(d, 51712, sectors=800)
    dom0_data = xentest_blk.pattern(7000, 64)       # "dom0 wrote" before boot
    bb.write_sectors(0, dom0_data)
    lines = []
    xentest_blk.say = lambda *w: lines.append(" ".join(w))
    env = Env(DISK="", READ_SECTORS=64, WRITE_AT=64, SEQ_AT=256, SEQ_MB=0.25,
              SEG_PAGES=22, CHUNK_KB=32)
    fake_xen.run(xentest_blk.main(env))
    assert lines[-1] == "done ok", lines
    by = {}
    for l in lines:
        by[l.split()[0]] = l
    assert "sectors=800" in by["geometry"] and "flush=1" in by["geometry"]
    assert _field(by["dom0-read"], "sha256") == _sha(dom0_data)
    assert _field(by["wrote"], "sha256") == _sha(bb.read_sectors(64, 128))
    seq = _sha_disk(bb, 256, 512)
    assert _field(by["seq-write"], "sha256") == seq
    assert _field(by["seq-read"], "sha256") == seq
    first = bb.read_sectors(256, 1)
    assert first[:8] == b"\x00" * 6 + b"\x01\x00" and first[8] == 0     # sector 256


def test_app_fails_cleanly_on_small_disk():
    fake_xen.reset()
    R.log = lambda m: None
    d = FakeXenstored()
    FakeBlkback(d, 51712, sectors=400)
    lines = []
    xentest_blk.say = lambda *w: lines.append(" ".join(w))
    env = Env(DISK="51712", READ_SECTORS=64, WRITE_AT=64, SEQ_AT=256, SEQ_MB=1,
              SEG_PAGES=22, CHUNK_KB=32)
    fake_xen.run(xentest_blk.main(env))
    assert lines[-1] == "FAIL disk too small for the sequential test", lines
