# Shutdown and reboot (morgana.lifecycle, morgana.xen.control, the HTTP and asyncio
# servers' hooks, TCP's "everything acknowledged"), on the fake Xen's virtual clock.
import fake_xen
from fake_xenstored import FakeXenstored
from morgana import sched, logs, lifecycle, boot
from morgana.xen import control
from morgana.xen import ring as R
from morgana.http import server as http_server
from morgana.http.app import App
from test_http_fakes import FakeFlow, parse_responses
from test_tcp_simlink import connected, pattern


def _fresh():
    fake_xen.reset()
    lifecycle.reset()
    R.log = lambda m: None
    lines = []
    logs.set_reporter(lambda b: lines.append(b.decode()))
    return lines


def _done():
    logs.set_reporter(None)
    lifecycle.reset()


def _run(coro):
    try:
        return fake_xen.run(coro)
    finally:
        _done()


async def _stop(why=lifecycle.POWEROFF, check=None):
    """Request a shutdown, run check() once the hooks have started; seconds it took."""
    t0 = sched.now()
    lifecycle.request(why)
    if check is not None:
        await sched.sleep(0.01)
        check()
    await lifecycle.finished()
    return sched.now() - t0


def test_hooks_run_at_once_with_the_reason_last_ones_after():
    _fresh()
    seen = []

    async def a(why):
        seen.append(("a", why, sched.now()))
        await sched.sleep(1.0)
        seen.append(("a-end", sched.now()))

    async def b(why):
        seen.append(("b", why, sched.now()))

    async def z(why):
        seen.append(("z", why, sched.now()))

    async def main():
        lifecycle.on_shutdown(z, last=True)
        lifecycle.on_shutdown(a)
        lifecycle.on_shutdown(b)
        lifecycle.on_shutdown(b)                 # once only
        t0 = sched.now()
        assert lifecycle.request(lifecycle.REBOOT)
        assert not lifecycle.request(lifecycle.POWEROFF)     # the first reason stands
        assert lifecycle.reason() == "reboot" and lifecycle.stopping()
        r = await lifecycle.finished()
        return r, t0, sched.now()
    r, t0, t1 = _run(main())
    assert r == "reboot"
    assert [s[0] for s in seen] == ["a", "b", "a-end", "z"], seen
    assert seen[0][2] == seen[1][2] == t0            # concurrently, at once
    assert seen[3][2] >= t0 + 1.0                     # last: after a finished
    assert t1 - t0 < 1.1


def test_grace_cuts_a_slow_hook_and_a_failing_hook_does_not_stop_the_others():
    lines = _fresh()
    seen = []

    async def slow(why):
        try:
            await sched.sleep(60)
        except sched.Cancelled:
            seen.append("slow cancelled")
            raise

    async def bad(why):
        raise RuntimeError("boom")

    def plain(why):                                  # a plain function works too
        seen.append("plain " + why)

    async def main():
        lifecycle.set_grace(2.5)
        for h in (slow, bad, plain):
            lifecycle.on_shutdown(h)
        return await _stop()
    took = _run(main())
    assert 2.5 - 1e-9 <= took < 2.6, took     # the fake clock sums floats
    assert seen == ["plain poweroff", "slow cancelled"], seen
    text = "".join(lines)
    assert "boom" in text and "cut short" in text and "slow" in text, text


def test_bad_reasons_and_grace_refused():
    lifecycle.reset()
    for bad in ("suspend", "halt", None):
        try:
            lifecycle.request(bad)
            assert False, bad
        except ValueError:
            pass
    try:
        lifecycle.set_grace(-1)
        assert False
    except ValueError:
        pass
    assert not lifecycle.stopping()


def _control_world():
    lines = _fresh()
    d = FakeXenstored()
    d.set("control/shutdown", "")
    d.set("control/feature-poweroff", "")
    d.set("control/feature-reboot", "")
    return lines, d


def _run_control(d, script, until_stop=True, extra=None):
    """Run control.run() while script(d) plays the toolstack; -> (reason or None, t)."""
    async def main():
        t = sched.spawn(control.run())
        if extra is not None:
            extra()
        await sched.sleep(0.1)
        await script(d)
        if until_stop:
            r = await sched.with_timeout(30, lifecycle.finished())
        else:
            await sched.sleep(1)
            r = None
        t.cancel()
        return r
    return _run(main())


def test_poweroff_request_is_acknowledged_and_runs_the_hooks():
    lines, d = _control_world()
    seen = []

    async def hook(why):
        seen.append((why, d.get("control/shutdown")))

    async def toolstack(d):
        assert d.get("control/feature-poweroff") == b"1"
        assert d.get("control/feature-reboot") == b"1"
        assert d.get("control/feature-suspend") is None
        d.set("control/shutdown", "poweroff")

    r = _run_control(d, toolstack, extra=lambda: lifecycle.on_shutdown(hook))
    assert r == "poweroff"
    assert seen == [("poweroff", b"")], seen          # acknowledged before the hooks ran
    assert "poweroff requested by the toolstack" in "".join(lines)


def test_halt_is_poweroff_and_reboot_is_reboot():
    for cmd, want in (("halt", "poweroff"), ("reboot", "reboot")):
        lines, d = _control_world()

        async def toolstack(d, cmd=cmd):
            d.set("control/shutdown", cmd)
        assert _run_control(d, toolstack) == want
        assert d.get("control/shutdown") == b""


def test_request_made_before_the_watch_is_seen():
    lines, d = _control_world()
    d.set("control/shutdown", "reboot")              # written while the guest booted

    async def nothing(d):
        pass
    assert _run_control(d, nothing) == "reboot"
    assert d.get("control/shutdown") == b""


def test_suspend_is_refused_unacknowledged_and_the_domain_runs_on():
    lines, d = _control_world()

    async def toolstack(d):
        d.set("control/shutdown", "suspend")
        await sched.sleep(0.5)
        d.set("control/shutdown", "frobnicate")

    assert _run_control(d, toolstack, until_stop=False) is None
    assert not lifecycle.stopping()
    assert d.get("control/shutdown") == b"frobnicate"     # neither acknowledged
    text = "".join(lines)
    assert "suspend requested: not supported yet" in text, text
    assert "ignoring unknown shutdown request 'frobnicate'" in text, text


def test_control_without_a_xenstore_returns_quietly():
    _fresh()
    assert _run(control.run()) is None                # store_evtchn 0: dom0less


class _Plat(fake_xen.FakePlatform):
    def __init__(self):
        self.reboots = 0

    def control(self):
        return control.run()

    def reboot(self):
        self.reboots += 1


class _App:
    def __init__(self, d):
        self.d = d

    async def main(self, env):
        await sched.sleep(0.2)
        self.d.set("control/shutdown", "reboot")
        await sched.Promise()                        # serves forever


def test_boot_start_ends_the_run_on_reboot_and_hands_it_to_the_platform():
    lines, d = _control_world()
    p = _Plat()

    async def devices(env):
        pass
    try:
        r = boot.start(p, _App(d), "t", "xen-x86_64", {"SHUTDOWN_GRACE": 1.5}, devices)
    finally:
        sched.set_platform(None)
        _done()
    assert r is None and p.reboots == 1
    assert d.get("control/shutdown") == b""


def _get(path, keep=True):
    return (b"GET " + path + b" HTTP/1.1\r\nHost: t\r\n"
            + (b"" if keep else b"Connection: close\r\n") + b"\r\n")


def test_http_server_closes_idle_connections_and_finishes_the_request_under_way():
    _fresh()
    app = App()

    @app.route("/slow")
    async def slow(req):
        await sched.sleep(2.0)
        return b"done"

    @app.route("/fast")
    def fast(req):
        return b"ok"

    idle = FakeFlow([_get(b"/fast"), None])           # answered, then idle keep-alive
    busy = FakeFlow([_get(b"/slow"), None])

    class Stack:
        def __init__(self):
            self.ports = {}

        def listen(self, port, h):
            self.ports[port] = h

        def unlisten(self, port):
            del self.ports[port]

    st = Stack()

    async def main():
        app.listen(st, 80)
        sched.spawn(app.handle(idle))
        sched.spawn(app.handle(busy))
        await sched.sleep(0.5)

        def check():
            assert idle.closed and not busy.closed and st.ports == {}
        return await _stop(check=check)
    took = _run(main())
    assert 1.4 < took < 1.6, took                     # the slow response's remaining 1.5 s
    assert busy.closed
    (st1, h1, b1), = parse_responses(busy.data())
    assert st1 == 200 and b1 == b"done"
    (st2, h2, b2), = parse_responses(idle.data())
    assert st2 == 200 and b2 == b"ok" and "connection" not in h2


def test_http_request_half_received_at_shutdown_is_answered_with_connection_close():
    _fresh()
    srv = http_server.Server(None)

    class One:
        async def respond(self, s, c, req, keep):
            await s.write(c, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
                          + s.conn_hdr(req, keep) + b"\r\nx")
            return 200, 1
    srv.app = One()
    late = FakeFlow([b"GET / HTTP/1.1\r\n", 1.0, b"Host: t\r\n\r\n", _get(b"/")])

    async def main():
        sched.spawn(srv.handle(late))
        await sched.sleep(0.1)
        await _stop()
    _run(main())
    r = parse_responses(late.data())
    assert len(r) == 1 and r[0][1]["connection"] == "close", r


def test_http_server_hook_only_while_it_has_connections():
    lifecycle.reset()
    srv = http_server.Server(None)

    class One:
        async def respond(self, s, c, req, keep):
            assert srv._hook in lifecycle.hooks()
            await s.write(c, b"HTTP/1.1 204 No Content\r\n\r\n")
            return 204, 0
    srv.app = One()
    sched.run(srv.handle(FakeFlow([_get(b"/")])))
    assert srv._hook not in lifecycle.hooks()
    lifecycle.reset()


def test_asyncio_server_waits_for_its_connections():
    _fresh()
    from morgana import aio
    from morgana.aio import streams

    class Stack:
        listeners = {}

        def listen(self, port, h):
            self.listeners[port] = h

        def unlisten(self, port):
            self.listeners.pop(port, None)

    st = Stack()
    flow = FakeFlow([b"hi\n"])

    async def cb(r, w):
        line = await r.readline()
        await aio.sleep(1.0)
        w.write(line.upper())
        await w.drain()
        w.close()

    async def main():
        orig = streams._listen_stack
        streams._listen_stack = lambda host: st
        try:
            srv = await aio.start_server(cb, None, 8080)
        finally:
            streams._listen_stack = orig
        sched.spawn(st.listeners[8080](flow))
        await sched.sleep(0.2)
        took = await _stop()
        assert 8080 not in st.listeners
        return took, srv
    took, srv = _run(main())
    assert 0.7 < took < 0.9, took
    assert flow.data() == b"HI\n" and flow.closed
    assert srv._hook not in lifecycle.hooks()


def test_tcp_unacked_until_the_peer_acknowledged_data_and_fin():
    clock, link, a, b, cf, sf = connected()
    assert not sf.unacked() and a.unacked() == []
    data = pattern(20000)
    n = sf.send_nowait(data)
    assert n == len(data)
    assert sf.unacked() and a.unacked() == [sf]
    link.run(seconds=2)
    assert not sf.unacked()
    sf.shutdown()
    assert sf.unacked()                               # FIN_WAIT_1
    link.run(seconds=2)
    assert not sf.unacked() and a.unacked() == []
    got = cf.recv_nowait()
    assert got == data
