# morgana.aio streams: buffering over a scripted flow, then start_server/open_connection
# over host sockets on 127.0.0.1 (server and client in one loop) and over our own TCP
# on a virtual link (the direct stack's path). Portable (CPython and MicroPython).
from morgana import sched, net
from morgana import aio as asyncio
from morgana.aio import streams
from morgana.net.addr import ip_to_int
from morgana.net.tcp import TCP


def _fresh():
    asyncio.new_event_loop()
    asyncio.get_event_loop().set_exception_handler(None)


def _port(k):
    # a port per test and run, away from common services
    return 20000 + (sched.now_ns() // 1000 + k * 1291) % 20000


class FakeFlow:
    """A flow that hands out scripted chunks and records what is sent."""

    def __init__(self, chunks, take=None):
        self.chunks = list(chunks)
        self.take = take        # send_nowait takes at most this much (None: all)
        self.sent = []
        self.reads = 0
        self.closed = False
        self.peer = ("10.0.0.9", 4242)

    async def read(self):
        self.reads += 1
        await sched.sleep(0)
        return self.chunks.pop(0) if self.chunks else b""

    async def write(self, b):
        await sched.sleep(0)
        self.sent.append(bytes(b))

    def send_nowait(self, b):
        n = len(b) if self.take is None else min(self.take, len(b))
        if n:
            self.sent.append(bytes(b[:n]))
        return n

    async def close(self):
        self.closed = True


def _on(flow, fn):
    s = asyncio.Stream(flow, {"peername": flow.peer})

    async def main():
        return await fn(s)

    _fresh()
    return asyncio.run(main())


def test_readline_across_chunks_and_at_eof():
    f = FakeFlow([b"GET / HT", b"TP/1.0\r\nHost: x\r\n\r", b"\nbody-no-newline"])

    async def fn(s):
        out = []
        for _ in range(5):
            out.append(await s.readline())
        return out

    assert _on(f, fn) == [b"GET / HTTP/1.0\r\n", b"Host: x\r\n", b"\r\n",
                          b"body-no-newline", b""]


def test_readline_serves_buffered_lines_without_reading():
    f = FakeFlow([b"a\nbb\nccc\n"])

    async def fn(s):
        out = [await s.readline(), await s.readline(), await s.readline()]
        return out, f.reads

    assert _on(f, fn) == ([b"a\n", b"bb\n", b"ccc\n"], 1)


def test_read_n_read_all_readexactly_and_eof_error():
    f = FakeFlow([b"0123456789", b"abcdef", b"XYZ"])

    async def fn(s):
        a = await s.read(4)          # from one chunk, rest buffered
        b = await s.read(100)        # the buffered rest only
        c = await s.readexactly(8)   # across chunks
        try:
            await s.readexactly(10)
            d = None
        except EOFError as e:        # IncompleteReadError is an EOFError
            d = (e.partial, e.expected, isinstance(e, asyncio.IncompleteReadError))
        e = await s.read()
        return a, b, c, d, e

    assert _on(f, fn) == (b"0123", b"456789", b"abcdefXY", (b"Z", 10, True), b"")


def test_read_all_and_readinto():
    f = FakeFlow([b"hello ", b"world", b"!"])

    async def fn(s):
        buf = bytearray(3)
        n = await s.readinto(buf)
        rest = await s.read(-1)
        return n, bytes(buf), rest, await s.read(1)

    assert _on(f, fn) == (3, b"hel", b"lo world!", b"")


def test_readuntil_separator_straddling_reads():
    f = FakeFlow([b"part1\r", b"\npart2--", b"-END", b"tail"])

    async def fn(s):
        a = await s.readuntil(b"\r\n")
        b = await s.readuntil(b"---END")
        try:
            await s.readuntil(b"\n")
            c = None
        except asyncio.IncompleteReadError as e:
            c = e.partial
        return a, b, c

    assert _on(f, fn) == (b"part1\r\n", b"part2---END", b"tail")


def test_readline_limit():
    f = FakeFlow([b"x" * 40000, b"y" * 40000, b"\n"])

    async def fn(s):
        try:
            await s.readline()
        except ValueError:
            return "too long"

    assert _on(f, fn) == "too long"


def test_writes_are_corked_until_the_task_yields():
    from morgana.aio import streams
    f = FakeFlow([])

    async def fn(s):
        s.write(b"abc")
        s.write("de")                # str is encoded
        await s.awrite(b"0123456789", 2, 4)
        assert f.sent == []          # the task has not yielded: nothing out yet
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert f.sent == [b"abcde2345"], f.sent      # the turn's pieces as one write
        s.write(b"x" * streams.CORK)
        await s.awrite(b"y")         # CORK bytes waiting: out now, without a yield
        assert f.sent[-1] == b"x" * streams.CORK + b"y"
        s.write(b"last")
        await s.drain()              # drain hands what is written to the flow
        assert f.sent[-1] == b"last"
        await s.drain()              # nothing left: just a yield
        s.write(b"end")
        await s.wait_closed()        # flushes, then closes the flow
        return f.sent, f.closed, s.get_extra_info("peername"), s.get_extra_info("x", 1)

    sent, closed, peer, other = _on(f, fn)
    assert sent[-1] == b"end" and len(sent) == 4, sent
    assert closed and peer == ("10.0.0.9", 4242) and other == 1


def test_a_write_before_a_read_goes_out_before_the_read_waits():
    f = FakeFlow([b"pong"])

    async def fn(s):
        s.write(b"ping")
        got = await s.read(10)
        return f.sent, got

    assert _on(f, fn) == ([b"ping"], b"pong")


def test_client_close_without_wait_closed_still_closes():
    f = FakeFlow([])

    async def fn(s):
        s.write(b"bye")
        s.close()
        for _ in range(10):          # the flusher, then the close, in tasks of their own
            if f.closed:
                break
            await asyncio.sleep(0)
        return f.closed, f.sent

    assert _on(f, fn) == (True, [b"bye"])


def _echo_server_and_client(host, port):
    log = []

    async def handler(reader, writer):
        log.append(("peer", writer.get_extra_info("peername")[0]))
        while True:
            line = await reader.readline()
            if not line:
                break
            if line == b"QUIT\n":
                writer.write(b"BYE\n")
                await writer.drain()
                break
            writer.write(line.upper())
            await writer.drain()
        body = await reader.readexactly(5)
        await writer.awrite(bytes(reversed(body)))
        writer.close()
        await writer.wait_closed()
        log.append("handler closed")

    async def main():
        srv = await asyncio.start_server(handler, host, port)
        async with srv:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            assert w.get_extra_info("peername") == ("127.0.0.1", port)
            w.write(b"hello\nworld\n")
            await w.drain()
            got = [await r.readline(), await r.readline()]
            w.write(b"QUIT\n" + b"abcde")
            await w.drain()
            got.append(await r.readline())
            got.append(await r.readexactly(5))
            got.append(await r.read(10))          # the server closed: EOF
            w.close()
            await w.wait_closed()
        await asyncio.sleep(0.01)
        return got

    _fresh()
    got = asyncio.run(main())
    assert got == [b"HELLO\n", b"WORLD\n", b"BYE\n", b"edcba", b""], got
    assert log == [("peer", "127.0.0.1"), "handler closed"], log


def test_echo_over_host_sockets_on_loopback():
    _echo_server_and_client("127.0.0.1", _port(1))


def test_server_on_any_address_and_port_in_use():
    port = _port(2)
    _echo_server_and_client("0.0.0.0", port)

    async def main():
        s1 = await asyncio.start_server(None, "0.0.0.0", port)
        try:
            await asyncio.start_server(None, "0.0.0.0", port)
            second = "no error"
        except OSError:
            second = "OSError"
        s1.close()
        await s1.wait_closed()
        s3 = await asyncio.start_server(None, "0.0.0.0", port)   # free again
        s3.close()
        return second

    _fresh()
    assert asyncio.run(main()) == "OSError"


def test_connect_refused_is_oserror():
    port = _port(3)

    async def main():
        try:
            await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return "refused"

    _fresh()
    assert asyncio.run(main()) == "refused"


def test_callback_that_returns_keeps_the_connection_until_close():
    port = _port(4)
    kept = []

    def handler(reader, writer):          # a plain function: the stream lives on
        kept.append(writer)

    async def main():
        srv = await asyncio.start_server(handler, "127.0.0.1", port)
        r, w = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.sleep(0.02)
        s = kept[0]
        s.write(b"later\n")
        line = await r.readline()
        s.close()
        eof = await r.read(5)
        w.close()
        srv.close()
        await srv.wait_closed()
        return line, eof

    _fresh()
    assert asyncio.run(main()) == (b"later\n", b"")


def test_cancelling_wait_closed_closes_the_server():
    port = _port(5)

    async def serve():
        srv = await asyncio.start_server(None, "127.0.0.1", port)
        await srv.wait_closed()

    async def main():
        for n in range(3):
            t = asyncio.create_task(serve())
            for _ in range(n):
                await asyncio.sleep(0)
            t.cancel()
            try:
                await t
            except asyncio.CancelledError:
                pass
        return "ok"

    _fresh()
    assert asyncio.run(main()) == "ok"


# ---- over our own TCP (what a unikernel with c.network() has), on a virtual link
class _VirtualPlat:
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


class _Link:
    def __init__(self):
        self.ends = {}

    def output(self, proto, dst, seg, src):
        sched.spawn(self._deliver(dst, src, bytes(seg)))

    async def _deliver(self, dst, src, seg):
        await sched.sleep(0.001)
        self.ends[dst].input(src, dst, memoryview(seg))


class _DirectLike:
    # the app API of morgana.net.stack.Stack over a bare TCP (int address, .tcp)
    def __init__(self, tcp, ip):
        self.tcp = tcp
        self.ip = ip

    def listen(self, port, handler):
        self.tcp.listen(port, handler)

    async def connect(self, ip, port):
        return await self.tcp.connect(ip_to_int(ip), port)


def _with_direct(fn):
    try:
        import gc
        gc.collect()
    except ImportError:
        pass
    prev_plat, prev_stack = sched._plat, net.default()
    sched.set_platform(_VirtualPlat())
    try:
        link = _Link()
        ip_a, ip_b = 0x0A000001, 0x0A000002
        a = TCP(link.output, ip_a, {}, b"aio-secret-a!!!!")
        b = TCP(link.output, ip_b, {}, b"aio-secret-b!!!!")
        link.ends[ip_a] = a
        link.ends[ip_b] = b
        _fresh()
        return fn(_DirectLike(a, ip_a), _DirectLike(b, ip_b))
    finally:
        sched.set_platform(prev_plat)
        net.set_default(prev_stack)
        _fresh()


def test_streams_over_our_tcp_stack():
    def fn(a, b):
        async def handler(reader, writer):
            n = int((await reader.readline()).strip())
            data = await reader.readexactly(n)
            peer = writer.get_extra_info("peername")[0]
            await writer.awrite(("%d %s\n" % (len(data), peer)).encode())
            await writer.aclose()

        async def main():
            net.set_default(b)
            try:
                await asyncio.start_server(handler, "10.0.0.9", 80)
                wrong = "no error"
            except OSError:
                wrong = "OSError"
            srv = await asyncio.start_server(handler, "10.0.0.2", 80)
            net.set_default(a)
            r, w = await asyncio.open_connection("10.0.0.2", 80)
            w.write(b"30000\n" + b"q" * 30000)
            await w.drain()
            line = await r.readline()
            eof = await r.read()
            w.close()
            await w.wait_closed()
            srv.close()
            return wrong, line, eof

        return asyncio.run(main())

    assert _with_direct(fn) == ("OSError", b"30000 10.0.0.1\n", b"")


def test_no_stack_off_unix_names_the_config():
    def fn(a, b):
        net.set_default(None)

        async def main():
            try:
                await asyncio.open_connection("10.0.0.2", 80)
            except OSError as e:
                return str(e)

        return asyncio.run(main())

    msg = _with_direct(fn)
    assert "c.network()" in msg, msg
