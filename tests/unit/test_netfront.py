# netfront against the fake netback: handshake, tx/rx, refill, several vifs, close.
import fake_xen
from fake_xenstored import FakeXenstored
from fake_netback import FakeNetback
from morgana import sched
from morgana.xen import xenstore as X
from morgana.xen import ring as R
import netfront


def _frame(n, tag=0):
    return bytes([0xFF] * 6 + [2, 0, 0, 0, 0, 1] + [0x08, 0x00]) + bytes([(tag + k) & 255 for k in range(n - 14)])


def _run(body, vifs=1, **nbkw):
    fake_xen.reset()
    R.log = lambda m: None
    d = FakeXenstored()
    nbs = [FakeNetback(d, i, mac="00:16:3e:00:00:%02x" % (i + 1), **nbkw) for i in range(vifs)]

    async def main():
        xs = X.Xenstore(fake_xen.store_page(), fake_xen.start_info()["store_evtchn"])
        try:
            return await body(xs, d, nbs)
        finally:
            xs.close()
    return fake_xen.run(main())


def test_handshake_publishes_rings_and_reads_mac():
    async def body(xs, d, nbs):
        nf = await netfront.connect(0, xs)
        nb = nbs[0]
        await sched.sleep(0)        # the backend runs while we yield
        return (nf.mac, nb.connected, d.get(nb.back + "/state"), d.get(nb.front + "/state"),
                nb.fget("request-rx-copy"), len(nb.rx_posted), nf.mtu)
    mac, conn, bstate, fstate, copy, posted, mtu = _run(body)
    assert mac == bytes([0, 0x16, 0x3E, 0, 0, 1])
    assert conn and bstate == b"4" and fstate == b"4" and copy == "1"
    assert posted == 64 and mtu == 1500


def test_tx_frames_reach_backend_and_complete():
    async def body(xs, d, nbs):
        nf = await netfront.connect(0, xs, rx_buffers=16, tx_slots=16)
        frames = [_frame(60 + k * 100, k) for k in range(14)]
        for f in frames:
            await nf.write(f)
        await sched.sleep(0)
        return frames, nbs[0].sent, nf.stats, len(nf.tx_free)
    frames, sent, st, free = _run(body)
    assert sent == frames
    assert st["tx_frames"] == 14 and st["tx_bytes"] == sum(len(f) for f in frames)
    assert free == 16 and st["tx_errors"] == 0


def test_tx_waits_for_slots_when_backend_slow():
    async def body(xs, d, nbs):
        nf = await netfront.connect(0, xs, tx_slots=4)
        nb = nbs[0]
        nb.hold_tx = True
        for k in range(4):
            await nf.write(_frame(100, k))
        t = sched.spawn(nf.write(_frame(100, 9)))
        await sched.sleep(0.01)
        blocked = not t.done()
        nb.hold_tx = False
        nb.release_tx()
        await t
        await sched.sleep(0)
        return blocked, len(nb.sent), nf.stats["tx_waits"]
    blocked, n, waits = _run(body)
    assert blocked and n == 5 and waits >= 1


def test_rx_delivers_and_refills():
    async def body(xs, d, nbs):
        nf = await netfront.connect(0, xs, rx_buffers=8)
        nb = nbs[0]
        got = []
        for k in range(40):                  # 5x more than buffers: refill must work
            nb.inject(_frame(60 + k, k))
            got.append(await nf.read())
        return got, len(nb.rx_posted), nf.stats
    got, posted, st = _run(body)
    assert got == [_frame(60 + k, k) for k in range(40)]
    assert posted == 8 and st["rx_frames"] == 40 and st["rx_dropped"] == 0


def test_rx_push_mode_calls_the_receiver_and_survives_its_errors():
    async def body(xs, d, nbs):
        nf = await netfront.connect(0, xs, rx_buffers=8)
        nb = nbs[0]
        got = []

        def receiver(frame):
            if frame[-1] == 0xEE:
                raise ValueError("receiver bug")
            got.append(frame)
        nf.set_receiver(receiver)
        for k in range(20):
            nb.inject(_frame(60 + k, k))
            await sched.sleep(0)
        nb.inject(_frame(61, 0xEE - 46))    # its last byte is 0xEE
        await sched.sleep(0)
        nb.inject(_frame(62, 7))
        for _ in range(5):                  # the event reaches the driver task in a round or two
            await sched.sleep(0)
        nf.set_receiver(None)               # back to read()
        nb.inject(_frame(63, 8))
        last = await nf.read()
        return got, last, nf.stats, nf.error
    got, last, st, err = _run(body)
    assert got == [_frame(60 + k, k) for k in range(20)] + [_frame(62, 7)]
    assert last == _frame(63, 8) and err is None
    assert st["rx_receiver_errors"] == 1 and st["rx_frames"] == 23


def test_answers_from_the_receiver_share_one_notification():
    async def body(xs, d, nbs):
        nf = await netfront.connect(0, xs, rx_buffers=16, tx_slots=16)
        nb = nbs[0]
        await sched.sleep(0)
        nf.set_receiver(lambda f: nf.write_nowait(f[:14] + b"re" + f[16:]))
        before = fake_xen.notifies.get(nf.port, 0)
        for k in range(5):                  # five frames in before the driver runs
            nb.inject(_frame(80, k))
        for _ in range(5):
            await sched.sleep(0)
        return fake_xen.notifies.get(nf.port, 0) - before, nb.sent
    kicks, sent = _run(body)
    assert sent == [_frame(80, k)[:14] + b"re" + _frame(80, k)[16:] for k in range(5)]
    assert kicks == 1       # five answers and five refilled rx buffers: one event


def test_write_nowait_takes_frames_while_slots_last():
    async def body(xs, d, nbs):
        nf = await netfront.connect(0, xs, tx_slots=4)
        nb = nbs[0]
        nb.hold_tx = True
        taken = [nf.write_nowait(_frame(100, k)) for k in range(6)]
        bad = nf.write_nowait(b"short")     # not a frame: left to write() to refuse
        nb.hold_tx = False
        nb.release_tx()
        await sched.sleep(0)
        return taken, bad, len(nb.sent), nf.stats["tx_frames"]
    taken, bad, sent, n = _run(body)
    assert taken == [True] * 4 + [False] * 2 and bad is False
    assert sent == 4 and n == 4


def test_rx_at_offset():
    async def body(xs, d, nbs):
        nf = await netfront.connect(0, xs, rx_buffers=16, tx_slots=16)
        nbs[0].rx_offset = 100
        nbs[0].inject(_frame(1514, 3))
        return await nf.read()
    assert _run(body) == _frame(1514, 3)


def test_rx_queue_overflow_drops_not_blocks():
    async def body(xs, d, nbs):
        nf = await netfront.connect(0, xs, rx_buffers=8, rxq_len=4)
        for k in range(10):
            nbs[0].inject(_frame(60, k))
        await sched.sleep(0.01)
        got = []
        for _ in range(4):
            got.append(await nf.read())
        nbs[0].inject(_frame(61, 1))
        got.append(await nf.read())
        return got, nf.stats["rx_dropped"], len(nbs[0].rx_posted)
    got, dropped, posted = _run(body)
    assert got[:4] == [_frame(60, k) for k in range(4)] and got[4] == _frame(61, 1)
    assert dropped == 6 and posted == 8


def test_frame_size_checked():
    async def body(xs, d, nbs):
        nf = await netfront.connect(0, xs, rx_buffers=16, tx_slots=16)
        out = []
        for n in (10, 1519, 3000):
            try:
                await nf.write(bytes(n))
                out.append("sent")
            except ValueError:
                out.append("refused")
        return out, nbs[0].sent
    assert _run(body) == (["refused", "refused", "refused"], [])


def test_several_vifs_independent():
    async def body(xs, d, nbs):
        nfs = await netfront.connect_all(xs, rx_buffers=16, tx_slots=16)
        for i, nf in enumerate(nfs):
            await nf.write(_frame(64, i))
            nbs[i].inject(_frame(70, 10 + i))
        got = []
        for nf in nfs:
            got.append(await nf.read())
        await sched.sleep(0)
        return [nf.mac[5] for nf in nfs], got, [nb.sent for nb in nbs]
    macs, got, sent = _run(body, vifs=3)
    assert macs == [1, 2, 3]
    assert got == [_frame(70, 10 + i) for i in range(3)]
    assert sent == [[_frame(64, i)] for i in range(3)]


def test_close_handshake_and_grants_returned():
    async def body(xs, d, nbs):
        before = fake_xen.grants_live()
        nf = await netfront.connect(0, xs, rx_buffers=16, tx_slots=16)
        during = fake_xen.grants_live()
        ok = await nf.close()
        return before, during, fake_xen.grants_live(), ok, nbs[0].states, d.get(nbs[0].back + "/state")
    before, during, after, ok, states, bstate = _run(body)
    assert during > before and after == before
    assert ok and states == [4, 5, 6] and bstate == b"6"


def test_bad_mac_refused():
    async def body(xs, d, nbs):
        d.set(nbs[0].front + "/mac", "00:16:3e:zz:00:01")
        try:
            await netfront.connect(0, xs, rx_buffers=16, tx_slots=16)
            return "connected"
        except netfront.xenbus.XenbusError as e:
            return str(e)
    assert "bad mac" in _run(body)


def test_backend_without_rx_copy_refused():
    async def body(xs, d, nbs):
        d.set(nbs[0].back + "/feature-rx-copy", "0")
        try:
            await netfront.connect(0, xs, rx_buffers=16, tx_slots=16)
            return "connected"
        except netfront.xenbus.XenbusError as e:
            return str(e)
    assert "feature-rx-copy" in _run(body)


def test_parse_mac():
    assert netfront.parse_mac("aa:bb:cc:dd:ee:ff") == bytes([0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF])
    for bad in ("aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:fff", "a:bb:cc:dd:ee:ff0", "gg:bb:cc:dd:ee:ff"):
        try:
            netfront.parse_mac(bad)
            assert False, bad
        except netfront.xenbus.XenbusError:
            pass
