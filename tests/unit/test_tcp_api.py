# The awaitable application API (listen/connect/read/write/close/abort) under the real
# scheduler, on a virtual-time platform: timers fire in order without real sleeping, and
# TCP's own timer task drives retransmissions.
from morgana import sched
from morgana.net.tcp import TCP
from morgana.net import tcp_flow as tf
from test_tcp_simlink import IP_A, IP_B, pattern


class VirtualPlat:
    # time jumps to the next deadline whenever the loop would block
    def __init__(self):
        self.t = 10 ** 12

    def now_ns(self):
        return self.t

    def wall_ns(self):
        return self.t

    def wait(self, deadline_ns, rfds=(), wfds=()):
        if deadline_ns is not None and deadline_ns > self.t:
            self.t = deadline_ns
        return [], [], []

    def write_console(self, b):
        print(b)

    def exit(self, code):
        raise SystemExit(code)


class AsyncLink:
    def __init__(self, delay=0.001):
        self.delay = delay
        self.ends = {}
        self.drop_fn = None

    def output(self, proto, dst, seg, src):
        seg = bytes(seg)
        if self.drop_fn is not None and self.drop_fn(src, seg):
            return
        sched.spawn(self._deliver(dst, src, seg))

    async def _deliver(self, dst, src, seg):
        await sched.sleep(self.delay)
        self.ends[dst].input(src, dst, memoryview(seg))


def run_virtual(coro_fn, **tcp_opts):
    try:
        import gc
        gc.collect()  # MicroPython runs every test module in one small heap
    except ImportError:
        pass
    prev = sched._plat
    sched.set_platform(VirtualPlat())
    try:
        link = AsyncLink()
        a = TCP(link.output, IP_A, {}, b"async-secret-a!!", **tcp_opts)
        b = TCP(link.output, IP_B, {}, b"async-secret-b!!", **tcp_opts)
        link.ends[IP_A] = a
        link.ends[IP_B] = b
        return sched.run(coro_fn(link, a, b))
    finally:
        sched.set_platform(prev)


async def echo(flow):
    while True:
        d = await flow.read()
        if not d:
            break
        await flow.write(d)
    await flow.close()


def test_echo_roundtrip_and_eof():
    data = pattern(60000)

    async def main(link, a, b):
        a.listen(7, echo)
        f = await b.connect(IP_A, 7)
        assert f.state == tf.ESTABLISHED and f.peer == ("10.0.0.1", 7)
        got = bytearray()

        async def reader():
            while True:
                d = await f.read()
                if not d:
                    return
                got.extend(d)

        async def writer():
            await f.write(data)  # far more than the send buffer: write must wait
            await f.close()

        await sched.join([reader(), writer()])
        await sched.sleep(1)
        return bytes(got), f.state, len(a.flows)

    got, state, left = run_virtual(main, sndbuf=16384, rcvbuf=16384)
    assert got == pattern(60000)
    assert state == tf.TIME_WAIT and left == 0


def test_connect_refused_raises():
    async def main(link, a, b):
        try:
            await b.connect(IP_A, 9)
        except OSError as e:
            return e.args[0]
        return None

    assert run_virtual(main) == tf.ECONNREFUSED


def test_connect_timeout_raises():
    async def main(link, a, b):
        link.drop_fn = lambda src, seg: True
        t0 = sched.now()
        try:
            await b.connect(IP_A, 80)
        except OSError as e:
            return e.args[0], sched.now() - t0
        return None, 0

    err, waited = run_virtual(main)
    assert err == tf.ETIMEDOUT
    assert 60 <= waited <= 64  # 1+2+4+8+16+32 s of SYN backoff


def test_write_backpressure_until_reader_drains():
    async def main(link, a, b):
        accepted = []
        a.listen(80, accepted.append)  # a plain handler: nobody reads yet
        f = await b.connect(IP_A, 80)
        w = sched.spawn(f.write(bytes(50000)))
        await sched.sleep(5)
        blocked = not w.done()
        sf = accepted[0]
        got = 0
        while got < 50000:
            got += len(await sf.read())
        await w
        await sched.sleep(1)  # let the last segments land
        return blocked, got

    blocked, got = run_virtual(main, sndbuf=8192, rcvbuf=8192)
    assert blocked and got == 50000


def test_handler_failure_resets_only_its_flow():
    async def bad(flow):
        await flow.read()
        raise ValueError("app bug")

    async def main(link, a, b):
        a.listen(80, bad)
        a.listen(7, echo)
        f = await b.connect(IP_A, 80)
        await f.write(b"boom")
        try:
            await f.read()
            r = "no error"
        except OSError as e:
            r = e.args[0]
        g = await b.connect(IP_A, 7)  # the stack still serves others
        await g.write(b"ok?")
        echoed = await g.read()
        await g.close()
        await g.read()  # the echo handler finishes and closes too
        return r, echoed, a.stats["tcp_handler_error"]

    r, echoed, errors = run_virtual(main)
    assert r == tf.ECONNRESET and echoed == b"ok?" and errors == 1


def test_timer_task_retransmits():
    async def main(link, a, b):
        a.listen(7, echo)
        f = await b.connect(IP_A, 7)
        lost = []

        def drop_first_data(src, seg):
            if src == IP_B and len(seg) > 20 and not lost:
                lost.append(seg)
                return True
            return False
        link.drop_fn = drop_first_data
        t0 = sched.now()
        await f.write(b"again")
        d = await f.read()
        dt = sched.now() - t0
        await f.close()
        await f.read()  # let the echo handler finish
        return d, dt, len(lost), b.stats.get("tcp_rexmt", 0)

    d, dt, nlost, rexmt = run_virtual(main)
    assert d == b"again" and nlost == 1 and rexmt >= 1
    assert 0.005 < dt < 1.5  # repaired by TLP/RTO from the timer task, not hung


def test_abort_wakes_blocked_reader():
    async def main(link, a, b):
        accepted = []
        a.listen(80, accepted.append)
        f = await b.connect(IP_A, 80)
        await sched.sleep(0.1)
        r = sched.spawn(accepted[0].read())
        await sched.sleep(0.1)
        f.abort()
        try:
            await r
        except OSError as e:
            return e.args[0]

    assert run_virtual(main) == tf.ECONNRESET
