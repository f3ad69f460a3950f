# A lying blkback: bad ids, ops, statuses or indices put blkfront in its error state with
# one log line; the caller in flight and every later caller get RingError, no crash.
import fake_xen
from fake_xenstored import FakeXenstored
from fake_blkback import FakeBlkback
from morgana import sched
from morgana.xen import xenstore as X
from morgana.xen import ring as R
import blkfront


def _bad(knob):
    fake_xen.reset()
    logs = []
    R.log = logs.append
    d = FakeXenstored()
    bb = FakeBlkback(d, 51712, sectors=64)
    bb.write_sectors(0, b"\x5a" * 512)

    async def main():
        xs = X.Xenstore(fake_xen.store_page(), fake_xen.start_info()["store_evtchn"])
        disk = await blkfront.connect(51712, xs, seg_pages=11)
        out = [await disk.read(0, 1) == b"\x5a" * 512]
        bb.bad = knob
        for op in (lambda: disk.write(1, bytes(512)), lambda: disk.read(0, 1), disk.flush):
            try:
                await sched.with_timeout(1.0, op())
                out.append("ok")
            except R.RingError:
                out.append("refused")
            except sched.Timeout:
                out.append("hung")
        xs.close()
        return out
    return fake_xen.run(main()), logs


def _check(knob, word):
    out, logs = _bad(knob)
    assert out == [True, "refused", "refused", "refused"], (knob, out)
    assert len(logs) == 1 and word in logs[0], (knob, logs)


def test_unknown_id():
    _check("id", "not outstanding")


def test_wrong_operation_echoed():
    _check("op", "op")


def test_impossible_status():
    _check("status", "status")


def test_lying_producer_index():
    _check("rsp_prod", "rsp_prod")


def test_duplicate_response():
    _check("dup", "rsp_prod")     # one request, two responses: more than was asked


def test_duplicate_response_with_two_in_flight():
    fake_xen.reset()
    logs = []
    R.log = logs.append
    d = FakeXenstored()
    bb = FakeBlkback(d, 51712, sectors=64)

    async def main():
        xs = X.Xenstore(fake_xen.store_page(), fake_xen.start_info()["store_evtchn"])
        disk = await blkfront.connect(51712, xs, seg_pages=22)
        bb.hold = True
        a = sched.spawn(disk.read(0, 1))
        b = sched.spawn(disk.read(1, 1))
        await sched.sleep(0.01)
        first = bb.held[0]
        bb.ring.put_response(first[3], 0, 0)      # answer the first request twice
        bb.ring.put_response(first[3], 0, 0)
        bb.ring.push_responses()
        fake_xen.raise_event(bb.port)
        out = []
        for t in (a, b):
            try:
                await t
                out.append("ok")
            except R.RingError:
                out.append("refused")
        xs.close()
        return out
    out = fake_xen.run(main())
    assert out == ["ok", "refused"]
    assert len(logs) == 1 and "not outstanding" in logs[0]


def test_bad_geometry_refused():
    fake_xen.reset()
    d = FakeXenstored()
    bb = FakeBlkback(d, 51712)

    async def main():
        xs = X.Xenstore(fake_xen.store_page(), fake_xen.start_info()["store_evtchn"])
        out = []
        for key, val in (("sector-size", "1000"), ("sector-size", "256"), ("sectors", "lots")):
            d.set(bb.back + "/sector-size", "512")
            d.set(bb.back + "/sectors", "64")
            d.set(bb.back + "/" + key, val)
            bb.connected = False
            d.set(bb.back + "/state", "2")
            d.set(bb.front + "/state", "1")
            try:
                await blkfront.connect(51712, xs, seg_pages=11)
                out.append("connected")
            except blkfront.xenbus.XenbusError as e:
                out.append(key)
        xs.close()
        return out
    assert fake_xen.run(main()) == ["sector-size", "sector-size", "sectors"]
