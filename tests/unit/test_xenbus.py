# The XenBus handshake on its own, with a scripted backend: order of states, waiting for
# a slow backend, a backend that gives up, bad backend nodes, clean close.
import fake_xen
from fake_xenstored import FakeXenstored
from fake_backends import FakeBackend
from morgana import sched
from morgana.xen import xenstore as X
from morgana.xen import ring as R
from morgana.xen import xenbus as B


class Dev(FakeBackend):
    kind = "test"

    def connect(self):
        self.published = self.fget("ring-ref")


def _run(body, make=True):
    fake_xen.reset()
    R.log = lambda m: None
    d = FakeXenstored()
    dev = Dev(d, 3) if make else None

    async def main():
        xs = X.Xenstore(fake_xen.store_page(), fake_xen.start_info()["store_evtchn"])
        try:
            return await body(xs, d, dev)
        finally:
            xs.close()
    return fake_xen.run(main())


async def _publish(tx):
    await tx.write("device/test/3/ring-ref", "77")


def test_connect_sequence():
    async def body(xs, d, dev):
        fe = B.Frontend(xs, "test", 3)
        await fe.connect(_publish, announce=B.INITIALISED)
        return fe.backend, fe.backend_id, dev.states, dev.published, fe.state
    be, bid, states, pub, st = _run(body)
    assert be == "/local/domain/0/backend/test/1/3" and bid == 0
    assert states == [3, 4] and pub == "77" and st == B.CONNECTED


def test_waits_for_slow_backend():
    async def body(xs, d, dev):
        d.set(dev.back + "/state", "1")       # hotplug scripts still running

        async def later():
            await sched.sleep(2)
            dev.set_state(2)
        sched.spawn(later())
        t0 = sched.now()
        await B.Frontend(xs, "test", 3).connect(_publish)
        return sched.now() - t0
    took = _run(body)
    assert 1.9 < took < 3


def test_backend_never_ready_times_out():
    async def body(xs, d, dev):
        d.set(dev.back + "/state", "1")
        try:
            await B.Frontend(xs, "test", 3).connect(_publish, timeout=3)
            return "connected"
        except B.XenbusError as e:
            return str(e)
    assert "stuck in Initialising" in _run(body)


def test_backend_closing_aborts_connect():
    async def body(xs, d, dev):
        d.set(dev.back + "/state", "5")
        try:
            await B.Frontend(xs, "test", 3).connect(_publish)
            return "connected"
        except B.XenbusError as e:
            return str(e)
    assert "went Closing" in _run(body)


def test_missing_or_bad_backend_nodes():
    async def body(xs, d, dev):
        out = []
        try:
            await B.Frontend(xs, "test", 9).probe()
        except B.XenbusError as e:
            out.append("no backend" in str(e))
        d.set(dev.front + "/backend-id", "70000")
        try:
            await B.Frontend(xs, "test", 3).probe()
        except B.XenbusError as e:
            out.append("out of range" in str(e))
        d.set(dev.front + "/backend-id", "0")
        d.set(dev.front + "/backend", "relative/path")
        try:
            await B.Frontend(xs, "test", 3).probe()
        except B.XenbusError as e:
            out.append("bad backend path" in str(e))
        d.set(dev.front + "/backend", dev.back)
        d.set(dev.back + "/state", "banana")
        try:
            await B.Frontend(xs, "test", 3).connect(_publish)
        except B.XenbusError as e:
            out.append("not a number" in str(e))
        return out
    assert _run(body) == [True, True, True, True]


def test_clean_close():
    async def body(xs, d, dev):
        fe = B.Frontend(xs, "test", 3)
        await fe.connect(_publish)
        ok = await fe.close()
        return ok, dev.states, d.get(dev.back + "/state"), d.get(dev.front + "/state")
    assert _run(body) == (True, [3, 4, 5, 6], b"6", b"6")


def test_devices_listing():
    async def body(xs, d, dev):
        Dev(d, 12)
        Dev(d, 5)
        d.set(d.home + "/device/test/junk", "")
        return await B.devices(xs, "test"), await B.devices(xs, "none")
    assert _run(body) == ([3, 5, 12], [])


def test_parse_int_and_names():
    assert B.parse_int("42", "x") == 42
    for bad, lo, hi in (("x", 0, 9), ("10", 0, 9), ("-1", 0, 9)):
        try:
            B.parse_int(bad, "x", lo, hi)
            assert False, bad
        except B.XenbusError:
            pass
    assert B.state_name(4) == "Connected" and B.state_name(42) == "state 42"
