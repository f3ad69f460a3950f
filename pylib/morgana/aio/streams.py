# asyncio streams over the unikernel's network stack (docs/design.md "Network API for
# apps"): start_server listens with stack.listen, open_connection uses stack.connect,
# and a Stream reads and writes a flow. Reads are buffered (bytes + offset; readline
# finds the newline in what is buffered). Writes are corked until the writing task
# yields: HTTP libraries write a response as many small pieces (microdot: one awrite per
# header line), and on our stack each flow.write is a segment, so the pieces of one turn
# go out as one write (a flusher task runs in the next scheduler round; a read, drain,
# close or CORK bytes flush at once). One writer at a time reaches the flow, in order.
from morgana import sched, net, lifecycle
from morgana.aio import core

LIMIT = 65536          # readline/readuntil: longest line kept (CPython's default limit)
CORK = 16384           # bytes written in one turn before they go to the flow at once


class IncompleteReadError(EOFError):
    """readexactly/readuntil met the end of the stream. An EOFError, as MicroPython
    raises; .partial holds the bytes read, .expected the count asked for."""

    def __init__(self, partial, expected):
        super().__init__("%d bytes read on a total of %r expected bytes"
                         % (len(partial), expected))
        self.partial = partial
        self.expected = expected


class Stream:
    """Reader and writer of one connection (StreamReader and StreamWriter are this)."""

    def __init__(self, flow, extra=None):
        self.flow = flow
        self.e = extra if extra is not None else {}
        self._buf = b""
        self._off = 0
        self._eof = False
        self._out = []            # written but not handed to the flow yet
        self._outn = 0            # their bytes
        self._flusher = None      # the task that sends _out in the next round
        self._writing = None      # Promise: a flow.write is under way (one at a time)
        self._werr = None         # what a flusher's write raised, for the next write
        self._closing = None      # Promise: the close is under way or done
        self._close_req = False   # close() was called
        self._req_p = None        # the server's connection task waits here for close()
        self._server = False      # accepted by start_server (its task does the close)

    # ------------------------------------------------------------------ reading
    def get_extra_info(self, name, default=None):
        return self.e.get(name, default)

    def _take(self, end):
        buf = self._buf
        out = buf[self._off:end]
        if end >= len(buf):
            self._buf = b""
            self._off = 0
        else:
            self._off = end
        return out

    async def _more(self):
        # next bytes from the flow, b'' at EOF (and from then on). What was written goes
        # out first: a request/response peer waits for it before it sends more.
        if self._eof:
            return b""
        if self._out:
            await self._send_out()
        d = await self.flow.read()
        if not d:
            self._eof = True
            return b""
        return d

    async def read(self, n=-1):
        """Up to n bytes (at least one unless at EOF: then b''); n < 0: all until EOF."""
        if n == 0:
            return b""
        if n < 0:
            chunks = []
            if self._off < len(self._buf):
                chunks.append(self._take(len(self._buf)))
            while True:
                d = await self._more()
                if not d:
                    return b"".join(chunks)
                chunks.append(d)
        if self._off < len(self._buf):
            return self._take(self._off + n)
        d = await self._more()
        if len(d) > n:
            self._buf = d
            self._off = n
            return d[:n]
        return d

    async def readinto(self, buf):
        """Read into a writable buffer; the number of bytes (0 at EOF)."""
        if self._off >= len(self._buf):
            d = await self._more()
            if not d:
                return 0
            self._buf = d
            self._off = 0
        n = min(len(buf), len(self._buf) - self._off)
        buf[:n] = self._buf[self._off:self._off + n]
        self._take(self._off + n)
        return n

    async def readexactly(self, n):
        """Exactly n bytes; IncompleteReadError (an EOFError) if the stream ends first."""
        buf = self._buf
        off = self._off
        if len(buf) - off >= n:
            return self._take(off + n)
        chunks = []
        got = len(buf) - off
        if got:
            chunks.append(self._take(len(buf)))
        while got < n:
            d = await self._more()
            if not d:
                raise IncompleteReadError(b"".join(chunks), n)
            need = n - got
            if len(d) > need:
                chunks.append(d[:need])
                self._buf = d
                self._off = need
                break
            chunks.append(d)
            got += len(d)
        return b"".join(chunks)

    async def _until(self, sep, eof_ok):
        buf = self._buf
        i = buf.find(sep, self._off)
        if i >= 0:
            return self._take(i + len(sep))
        if len(sep) == 1:                 # lines: a list of chunks, one find each
            chunks = []
            size = len(buf) - self._off
            if size:
                chunks.append(self._take(len(buf)))
            while True:
                d = await self._more()
                if not d:
                    return self._at_eof(b"".join(chunks), eof_ok)
                i = d.find(sep)
                if i >= 0:
                    i += 1
                    chunks.append(d[:i])
                    if i < len(d):
                        self._buf = d
                        self._off = i
                    return b"".join(chunks)
                chunks.append(d)
                size += len(d)
                if size > LIMIT:
                    raise ValueError("separator not found in %d bytes" % LIMIT)
        k = len(sep)                      # may straddle two reads
        acc = self._take(len(buf))
        while True:
            d = await self._more()
            if not d:
                return self._at_eof(acc, eof_ok)
            start = len(acc) - k + 1
            acc += d
            i = acc.find(sep, start if start > 0 else 0)
            if i >= 0:
                self._buf = acc
                self._off = 0
                return self._take(i + k)
            if len(acc) > LIMIT:
                raise ValueError("separator not found in %d bytes" % LIMIT)

    def _at_eof(self, part, eof_ok):
        if eof_ok:
            return part
        raise IncompleteReadError(part, None)

    def readline(self):
        """Up to and including the next b'\\n' (what is left at EOF, b'' after it)."""
        return self._until(b"\n", True)

    def readuntil(self, separator=b"\n"):
        return self._until(separator, False)

    # ------------------------------------------------------------------ writing
    def write(self, buf):
        """Queue buf; it goes out when this task yields (or at drain/CORK bytes)."""
        if self._werr is not None:
            raise self._werr
        if isinstance(buf, str):
            buf = buf.encode()
        if not len(buf):
            return
        self._out.append(bytes(buf))      # a copy: callers reuse their bytearrays
        self._outn += len(buf)
        if self._flusher is None:
            self._flusher = sched.spawn(self._flush_later(), "stream-flush")

    async def drain(self):
        """Wait until everything written has been handed to the flow. Always yields, so
        a loop of write+drain cannot keep the others from running."""
        if not self._out and self._writing is None:
            if self._werr is not None:
                raise self._werr
            await sched.sleep(0)
            return
        await self._send_out()

    async def awrite(self, buf, off=0, sz=-1):
        """write + drain (MicroPython's legacy API), corked: it returns at once unless
        CORK bytes are waiting (then they go to the flow now)."""
        if off or sz != -1:
            buf = memoryview(buf)[off:off + sz if sz >= 0 else len(buf)]
        self.write(buf)
        if self._outn >= CORK:
            await self._send_out()

    async def _flush_later(self):
        try:
            await self._send_out()
        except OSError as e:
            self._werr = e              # raised by the next write or drain
        finally:
            self._flusher = None

    async def _send_out(self):
        # the only caller of flow.write: one write at a time, in the order written
        while self._out or self._writing is not None:
            w = self._writing
            if w is not None:
                await w
                continue
            out = self._out
            self._out = []
            self._outn = 0
            w = self._writing = sched.Promise()
            try:
                await self.flow.write(out[0] if len(out) == 1 else b"".join(out))
            finally:
                self._writing = None
                w.wakeup()
        if self._werr is not None:
            raise self._werr

    awritestr = awrite

    # ------------------------------------------------------------------ closing
    def close(self):
        """Close after what is written. Client streams close in a task of their own; a
        server's connection closes from its connection task (wait_closed: at once)."""
        if self._close_req:
            return
        self._close_req = True
        p = self._req_p
        if p is not None:
            self._req_p = None
            p.wakeup()
        elif not self._server:
            sched.spawn(self._finish(), "stream-close")

    async def wait_closed(self):
        """Wait until the connection is closed (closes it, like MicroPython, if close()
        was not called)."""
        self._close_req = True
        await self._finish()

    async def aclose(self):
        self._close_req = True
        await self._finish()

    async def _finish(self):
        p = self._closing
        if p is not None:
            await p
            return
        p = self._closing = sched.Promise()
        try:
            await self._send_out()
        finally:
            try:
                await self.flow.close()
            finally:
                p.wakeup()

    def is_closing(self):
        return self._close_req


StreamReader = Stream
StreamWriter = Stream


# ------------------------------------------------------------------------ the stack
_host = {}              # host-socket stacks made here, by the address they bind


def _on_unix():
    return getattr(sched.platform(), "__name__", "") == "morgana.plat_unix"


def _host_stack(ip):
    st = _host.get(ip)
    if st is None:
        from morgana.net import socket_stack
        st = _host[ip] = socket_stack.Stack(ip)
    return st


def default_stack():
    """The unikernel's stack (net.default()); on Unix without one, host sockets."""
    st = net.default()
    if st is not None:
        return st
    if _on_unix():
        return _host_stack("0.0.0.0")
    raise OSError(19, "asyncio: no network stack; the unikernel's config needs "
                      "c.network()")


def _dotted(ip):
    if isinstance(ip, str):
        return ip
    return "%d.%d.%d.%d" % (ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255)


def _is_dotted(host):
    parts = host.split(".")
    return len(parts) == 4 and all(p.isdigit() for p in parts)


def _listen_stack(host):
    st = default_stack()
    if host is None or host in ("", "0.0.0.0", "::"):
        return st
    if host == "localhost":
        host = "127.0.0.1"
    if host == _dotted(st.ip):
        return st
    if isinstance(st.ip, str) and _on_unix():     # host sockets: bind that address
        return _host_stack(host)
    raise OSError(99, "start_server: %s is not an address of this unikernel (%s)"
                  % (host, _dotted(st.ip)))


def _resolve(host, port):
    if host == "localhost":
        return "127.0.0.1"
    if _is_dotted(host):
        return host
    if _on_unix():
        import socket
        from morgana.net import socket_stack
        return socket_stack.peer_of(socket.getaddrinfo(host, port)[0][-1])[0]
    raise OSError(-2, "open_connection: cannot resolve %r (no resolver here; use an "
                      "IP address)" % (host,))


def _no_ssl(ssl):
    if ssl:
        raise ValueError("asyncio streams: ssl is not supported")


async def open_connection(host, port, ssl=None, server_hostname=None):
    """(reader, writer) of a TCP connection to host:port (one Stream, twice)."""
    _no_ssl(ssl)
    st = default_stack()
    flow = await st.connect(_resolve(host, port), port)
    s = Stream(flow, {"peername": flow.peer})
    return s, s


class Server:
    """What start_server returns: close(), await wait_closed(), `async with`."""

    def __init__(self, stack, port, cb):
        self.stack = stack
        self.port = port
        self.cb = cb
        self._closed = sched.Promise()
        self._conns = 0             # connections whose callback or close is under way
        self._idle = None
        self._hook = self._shutdown     # one bound method: what lifecycle.remove finds

    async def _shutdown(self, reason):
        # morgana.lifecycle hook: stop accepting, wait for the open connections to close
        self.close()
        while self._conns:
            self._idle = sched.Promise()
            await self._idle

    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc, tb):
        self.close()
        await self.wait_closed()

    def close(self):
        """Stop accepting (connections already accepted go on)."""
        if self._closed.done():
            return
        core._servers.discard(self)
        if not self._conns:
            lifecycle.remove(self._hook)
        st = self.stack
        un = getattr(st, "unlisten", None)
        if un is not None:
            un(self.port)
        elif getattr(st, "tcp", None) is not None:
            st.tcp.unlisten(self.port)
        self._closed.wakeup()

    async def wait_closed(self):
        """Until close(). A task cancelled here closes the server (as MicroPython's,
        whose server task the cancellation reaches)."""
        try:
            await self._closed
        except core.CancelledError:
            self.close()
            raise

    async def _conn(self, flow):
        # One connection, in the stack's task for it: the callback, then the close,
        # which waits for the callback's close() if it returned without one.
        s = Stream(flow, {"peername": flow.peer})
        s._server = True
        self._conns += 1
        try:
            try:
                r = self.cb(s, s)
                if r is not None and hasattr(r, "send"):
                    await r
            except Exception as e:
                core._loop.call_exception_handler({
                    "message": "Task exception wasn't retrieved", "exception": e,
                    "future": sched.current()})
                return
            if not s._close_req:
                s._req_p = sched.Promise()
                await s._req_p
        finally:
            try:
                await s._finish()
            except OSError:
                pass
            self._conns -= 1
            if not self._conns:
                if self._idle is not None:
                    self._idle.wakeup()
                    self._idle = None
                if self._closed.done():
                    lifecycle.remove(self._hook)


async def start_server(cb, host, port, backlog=None, ssl=None):
    """Listen on host:port; each connection runs cb(reader, writer). host None or
    '0.0.0.0': the stack's address. backlog goes to stack.listen (None: the stack's
    default, which on the direct stack is sized from its memory budget)."""
    _no_ssl(ssl)
    st = _listen_stack(host)
    if port in getattr(st, "listeners", ()):
        raise OSError(98, "start_server: port %d is in use" % port)
    srv = Server(st, port, cb)
    if backlog is None:
        st.listen(port, srv._conn)
    else:
        st.listen(port, srv._conn, backlog)
    core._servers.add(srv)
    lifecycle.on_shutdown(srv._hook, name="asyncio server :%d" % port)
    return srv
