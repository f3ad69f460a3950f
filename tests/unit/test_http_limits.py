# Timeouts: idle keep-alive connections, slow (slowloris) heads, slow readers, stalled
# request bodies. Short timeouts so the suite stays quick; bounds are generous.
from morgana import sched
from morgana.http import files as http
from morgana.store import kv_crunch
from test_http_fakes import FakeFlow, parse_responses

FILES = {"a.txt": (1700000000, "text/plain; charset=utf-8", b"A" * 100)}
REQ = b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n"


def timed(script, **kw):
    kw.setdefault("idle_timeout", 0.05)
    kw.setdefault("head_timeout", 0.1)
    wd = kw.pop("write_delay", 0)
    srv = http.Server(kv_crunch.KV(FILES), **kw)
    flow = FakeFlow(script, write_delay=wd)

    async def main():
        t0 = sched.now()
        await srv.handle(flow)
        return sched.now() - t0

    took = sched.run(main())
    assert flow.closed
    return flow, took, srv


def test_idle_client_closed_silently():
    flow, took, srv = timed([None])
    assert flow.data() == b""
    assert 0.04 <= took < 1.0, took
    assert srv.stats["timeouts"] == 1


def test_idle_after_keep_alive_response():
    flow, took, srv = timed([REQ, None])
    r = parse_responses(flow.data())
    assert len(r) == 1 and r[0][0] == 200
    assert 0.04 <= took < 1.0


def test_partial_head_gets_408():
    flow, took, srv = timed([b"GET /a.txt HTTP/1.1\r\nHo", None])
    r = parse_responses(flow.data())
    assert r[0][0] == 408 and r[0][1]["connection"] == "close"
    assert 0.09 <= took < 1.0, took


def test_dribbling_head_bounded_by_total_deadline():
    # one byte every 20 ms never lets a per-read timeout fire; the head deadline does
    script = []
    for c in REQ:
        script.append(0.02)
        script.append(bytes([c]))
    flow, took, srv = timed(script)
    assert parse_responses(flow.data())[0][0] == 408
    assert took < 0.5, took


def test_slow_reader_times_out():
    files = {"big": (1, "application/octet-stream", b"x" * 100000)}
    srv = http.Server(kv_crunch.KV(files), write_timeout=0.05, chunk=1024)
    flow = FakeFlow([b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n"], write_delay=10.0)

    async def main():
        t0 = sched.now()
        await srv.handle(flow)
        return sched.now() - t0

    took = sched.run(main())
    assert flow.closed and took < 1.0, took
    assert srv.stats["timeouts"] == 1


def test_stalled_request_body_closes():
    req = b"GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"
    flow, took, srv = timed([req, None])
    assert flow.data() == b""
    assert took < 1.0


def test_body_arriving_in_pieces_is_skipped():
    req = b"GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"
    flow, took, srv = timed([req, b"defg", b"hij" + REQ])
    r = parse_responses(flow.data())
    assert [x[0] for x in r] == [200, 200]


def test_outside_cancel_is_not_swallowed():
    # Only the connection's own deadline becomes a timeout; a cancel from elsewhere (the
    # app shutting the listener down) must still cancel the handler and close the flow.
    srv = http.Server(kv_crunch.KV(FILES))
    flow = FakeFlow([None])

    async def main():
        t = sched.spawn(srv.handle(flow))
        await sched.sleep(0.02)
        t.cancel()
        await sched.sleep(0)
        return t

    t = sched.run(main())
    assert t.done() and isinstance(t.exception(), sched.Cancelled)
    assert flow.closed and srv.stats["timeouts"] == 0


def test_watchdog_task_ends_with_the_connection():
    # after the handler returns no deadline task is left to fire later
    srv = http.Server(kv_crunch.KV(FILES), idle_timeout=0.05)
    flow = FakeFlow([REQ])
    fired = []

    async def main():
        await srv.handle(flow)
        await sched.sleep(0.2)          # longer than any deadline the connection set
        fired.append(srv.stats["timeouts"])

    sched.run(main())
    assert fired == [0]
