# Randomised hostile backends (deterministic LCG, portable): garbage in response slots
# and random producer indices. The frontend may only ever end in its RingError state;
# any other exception (IndexError, struct.error, ValueError...) in the driver task is a bug.
import struct

import fake_xen
from fake_xenstored import FakeXenstored
from fake_netback import FakeNetback
from fake_blkback import FakeBlkback
from morgana import sched
from morgana.xen import xenstore as X
from morgana.xen import ring as R
import netfront
import blkfront


class Rand:
    def __init__(self, seed):
        self.s = seed

    def next(self, n):
        self.s = (self.s * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.s >> 8) % n

    def bytes(self, n):
        return bytes([self.next(256) for _ in range(n)])


def _scribble(rnd, mv, esize, nents):
    # garbage into a few slots, then a producer index somewhere plausible or absurd
    for _ in range(rnd.next(4) + 1):
        slot = rnd.next(nents)
        off = 64 + slot * esize
        mv[off:off + esize] = rnd.bytes(esize)
    prod = struct.unpack_from("<I", mv, 8)[0]
    choice = rnd.next(4)
    if choice == 0:
        prod += rnd.next(3)
    elif choice == 1:
        prod += rnd.next(600)
    elif choice == 2:
        prod = rnd.next(1 << 31) * 2
    struct.pack_into("<I", mv, 8, prod & 0xFFFFFFFF)


def _fuzz_netfront(seed):
    fake_xen.reset()
    R.log = lambda m: None
    d = FakeXenstored()
    nb = FakeNetback(d, 0)
    rnd = Rand(seed)

    async def main():
        xs = X.Xenstore(fake_xen.store_page(), fake_xen.start_info()["store_evtchn"])
        nf = await netfront.connect(0, xs, rx_buffers=16, tx_slots=8)
        await sched.sleep(0)
        nb.connected = False        # from now on only the scribbler answers
        for step in range(6):
            if nf.error is not None:
                break
            try:
                await nf.write(bytes(60))
            except R.RingError:
                break
            ring = nb.rx if rnd.next(2) else nb.tx
            _scribble(rnd, ring.mv, ring.esize, ring.size)
            fake_xen.raise_event(nb.port)
            await sched.sleep(0.001)
        failed = nf.task.done() and nf.task.failed()
        xs.close()
        return failed, nf.error
    return fake_xen.run(main())


def _fuzz_blkfront(seed):
    fake_xen.reset()
    R.log = lambda m: None
    d = FakeXenstored()
    bb = FakeBlkback(d, 51712, sectors=64)
    rnd = Rand(seed)

    async def main():
        xs = X.Xenstore(fake_xen.store_page(), fake_xen.start_info()["store_evtchn"])
        disk = await blkfront.connect(51712, xs, seg_pages=22)
        bb.hold = True
        errors = []
        for step in range(4):
            t = sched.spawn(disk.read(rnd.next(60), 2))
            await sched.sleep(0.001)
            _scribble(rnd, bb.ring.mv, bb.ring.esize, bb.ring.size)
            fake_xen.raise_event(bb.port)
            try:
                await sched.with_timeout(0.5, t)
            except (R.RingError, blkfront.BlockError, sched.Timeout):
                pass
            except Exception as e:
                errors.append(e)
        failed = disk.task.done() and disk.task.failed()
        xs.close()
        return failed, errors
    return fake_xen.run(main())


def test_netfront_survives_garbage():
    errs = 0
    for seed in range(1, 13):
        failed, err = _fuzz_netfront(seed)
        assert not failed, seed
        errs += err is not None
    assert errs >= 6        # most garbage is caught (some happens to look valid)


def test_blkfront_survives_garbage():
    for seed in range(1, 13):
        failed, errors = _fuzz_blkfront(seed)
        assert not failed and errors == [], (seed, errors)


def _fuzz_xenstore(seed):
    fake_xen.reset()
    R.log = lambda m: None
    d = FakeXenstored()
    d.set("k", "v")
    rnd = Rand(seed)

    async def main():
        xs = X.Xenstore(fake_xen.store_page(), fake_xen.start_info()["store_evtchn"])
        await xs.read("k")
        mv = fake_xen.store_page().mv
        # garbage bytes into the reply stream, with a plausible or absurd rsp_prod
        prod = struct.unpack_from("<I", mv, 2060)[0]
        n = rnd.next(64) + 1
        junk = rnd.bytes(n)
        for k in range(n):
            mv[1024 + ((prod + k) & 1023)] = junk[k]
        struct.pack_into("<I", mv, 2060, (prod + (n if rnd.next(3) else rnd.next(1 << 30))) & 0xFFFFFFFF)
        fake_xen.raise_event(xs.port)
        await sched.sleep(0.001)
        out = None
        try:
            await sched.with_timeout(0.5, xs.read("k"))
        except (X.XenstoreError, R.RingError, sched.Timeout):
            pass
        except Exception as e:
            out = e
        failed = xs.task.done() and xs.task.failed()
        xs.close()
        return failed, out
    return fake_xen.run(main())


def test_xenstore_survives_garbage():
    for seed in range(1, 13):
        failed, out = _fuzz_xenstore(seed)
        assert not failed and out is None, (seed, out)
