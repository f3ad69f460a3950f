# A lying netback: every bad response puts netfront in its error state with one log line;
# readers and writers get RingError; nothing crashes and no memory off the page is read.
import fake_xen
from fake_xenstored import FakeXenstored
from fake_netback import FakeNetback
from morgana import sched
from morgana.xen import xenstore as X
from morgana.xen import ring as R
from morgana.xen import gnttab
import netfront

FRAME = bytes(range(6)) * 2 + b"\x08\x00" + bytes(50)


def _bad(knob, via_tx):
    fake_xen.reset()
    logs = []
    R.log = logs.append
    d = FakeXenstored()
    nb = FakeNetback(d, 0)

    async def main():
        xs = X.Xenstore(fake_xen.store_page(), fake_xen.start_info()["store_evtchn"])
        nf = await netfront.connect(0, xs, rx_buffers=16, tx_slots=16)
        await nf.write(FRAME)           # one good exchange first
        nb.inject(FRAME)
        good = await nf.read()
        nb.bad = knob
        if via_tx:
            await nf.write(FRAME)
        else:
            nb.inject(FRAME)
        out = [good == FRAME]
        for op in (nf.read, lambda: nf.write(FRAME)):
            try:
                await sched.with_timeout(1.0, op())
                out.append("ok")
            except R.RingError:
                out.append("refused")
            except sched.Timeout:
                out.append("hung")
        xs.close()
        return out, nf.error is not None
    out, err = fake_xen.run(main())
    return out, err, logs


def _check(knob, via_tx, word):
    out, err, logs = _bad(knob, via_tx)
    assert out == [True, "refused", "refused"] and err, (knob, out)
    assert len(logs) == 1 and word in logs[0], (knob, logs)


def test_rx_unknown_id():
    _check("rx_id", False, "not outstanding")


def test_rx_length_past_page():
    _check("rx_len", False, "outside the page")


def test_rx_offset_past_page():
    _check("rx_offset", False, "outside the page")


def test_rx_unnegotiated_flags():
    _check("rx_flags", False, "flags")


def test_tx_unknown_id():
    _check("tx_id", True, "not outstanding")


def test_tx_duplicate_response():
    fake_xen.reset()
    logs = []
    R.log = logs.append
    d = FakeXenstored()
    nb = FakeNetback(d, 0)

    async def main():
        xs = X.Xenstore(fake_xen.store_page(), fake_xen.start_info()["store_evtchn"])
        nf = await netfront.connect(0, xs, rx_buffers=16, tx_slots=16)
        nb.hold_tx = True
        await nf.write(FRAME)
        await nf.write(FRAME)
        await sched.sleep(0)
        first = nb.held[0]
        nb.tx.put_response(first, 0)      # answers the first request twice
        nb.tx.put_response(first, 0)
        nb.tx.push_responses()
        fake_xen.raise_event(nb.port)
        await sched.sleep(0.01)
        try:
            await nf.write(FRAME)
            r = "ok"
        except R.RingError:
            r = "refused"
        xs.close()
        return r
    assert fake_xen.run(main()) == "refused"
    assert len(logs) == 1 and "not outstanding" in logs[0], logs


def test_tx_lying_producer():
    _check("rsp_prod", True, "rsp_prod")


def test_grants_kept_by_backend_are_parked_not_freed():
    fake_xen.reset()
    R.log = lambda m: None
    d = FakeXenstored()
    nb = FakeNetback(d, 0)
    nb.keep_mapped = True       # never unmaps the rings or tx buffers

    async def main():
        xs = X.Xenstore(fake_xen.store_page(), fake_xen.start_info()["store_evtchn"])
        nf = await netfront.connect(0, xs, rx_buffers=16, tx_slots=16)
        await nf.write(FRAME)
        await sched.sleep(0)
        await nf.close()
        parked = gnttab.parked()
        # the backend finally lets go: the background retry ends the grants
        for ref in list(nb.mapped) + [nb.tx_ref, nb.rx_ref]:
            fake_xen.unmap_grant(ref)
        await sched.sleep(gnttab.RETRY_SECONDS * 2)
        xs.close()
        return parked, gnttab.parked()
    parked, later = fake_xen.run(main())
    assert parked == 3 and later == 0       # tx ring, rx ring, one tx buffer page


def test_backend_that_never_closes_times_out():
    fake_xen.reset()
    R.log = lambda m: None
    d = FakeXenstored()
    nb = FakeNetback(d, 0)
    nb.refuse_close = True

    async def main():
        xs = X.Xenstore(fake_xen.store_page(), fake_xen.start_info()["store_evtchn"])
        nf = await netfront.connect(0, xs, rx_buffers=16, tx_slots=16)
        t0 = sched.now()
        ok = await nf.close()
        xs.close()
        return ok, sched.now() - t0
    ok, took = fake_xen.run(main())
    assert ok is False and 4.9 < took < 11
