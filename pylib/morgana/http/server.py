# The HTTP/1.1 connection engine: one task per connection reads request heads (limits,
# slowloris deadlines), frames request bodies (Content-Length or chunked, bounded by
# max_body: 413 beyond), keeps connections alive and pipelined, and hands each request
# to an app: anything with `async def respond(server, conn, req, keep) -> (status, n)`
# (morgana.http.app.App; morgana.http.files.Files alone). The app writes its response
# through the helpers here (write, error, send_response), so framing, Date/Server
# headers, timeouts and the access log are the same for static files and handlers.
# On shutdown (morgana.lifecycle) a server stops listening, closes its idle keep-alive
# connections, answers the requests under way with `Connection: close` and returns once
# every connection is closed (the lifecycle's grace time bounds the wait).
from morgana import sched, lifecycle
from morgana.http.conn import Conn
from morgana.http.parse import (
    HttpError, find_head_end, skip_leading_crlf, parse_request, parse_content_length,
    parse_chunk_size, has_token)
from morgana.http.date import http_date

REASONS = {
    100: b"Continue", 200: b"OK", 201: b"Created", 202: b"Accepted",
    204: b"No Content", 206: b"Partial Content", 301: b"Moved Permanently",
    302: b"Found", 303: b"See Other", 304: b"Not Modified", 307: b"Temporary Redirect",
    308: b"Permanent Redirect", 400: b"Bad Request", 401: b"Unauthorized",
    403: b"Forbidden", 404: b"Not Found", 405: b"Method Not Allowed",
    408: b"Request Timeout", 409: b"Conflict", 410: b"Gone", 411: b"Length Required",
    412: b"Precondition Failed", 413: b"Content Too Large", 414: b"URI Too Long",
    415: b"Unsupported Media Type", 416: b"Range Not Satisfiable",
    422: b"Unprocessable Content", 429: b"Too Many Requests",
    431: b"Request Header Fields Too Large", 500: b"Internal Server Error",
    501: b"Not Implemented", 503: b"Service Unavailable",
    505: b"HTTP Version Not Supported",
}


class Close(Exception):
    """Stop serving this connection (peer gone, timed out, or framing lost)."""


def _wall():
    return sched.platform().wall_ns() // 1000000000


class Server:
    def __init__(self, app, log=None, max_head=8192, max_headers=64, max_uri=2048,
                 max_body=65536, idle_timeout=15.0, head_timeout=10.0,
                 write_timeout=30.0, chunk=16384, server_name="Morgana", clock=_wall):
        if chunk < 512:
            raise ValueError("chunk must be at least 512 bytes")
        if max_head < 256 or max_uri < 16 or max_headers < 1:
            raise ValueError("limits too small to serve any request")
        self.app = app
        # log: a callable taking one line, or a morgana.logs source: then access lines
        # are built only when its level lets INFO through (they cost ~15% of req/s)
        self._src = None
        if log is not None and hasattr(log, "enabled") and hasattr(log, "info"):
            self._src = log
            log = log.info
        self.log = log
        self.max_head = max_head
        self.max_headers = max_headers
        self.max_uri = max_uri
        self.max_body = max_body
        # None: no limit (a deadline far away keeps the per-call path branch-free)
        self.idle_timeout = 1e9 if idle_timeout is None else idle_timeout
        self.head_timeout = 1e9 if head_timeout is None else head_timeout
        self.write_timeout = 1e9 if write_timeout is None else write_timeout
        self._tick = min(self.idle_timeout, self.head_timeout, self.write_timeout) / 4
        self.chunk = chunk
        self.clock = clock
        self._server_hdr = b"Server: " + server_name.encode() + b"\r\n"
        self._dsec = -1
        self._dhdr = b""
        self.stats = {"connections": 0, "requests": 0, "errors": 0, "timeouts": 0,
                      "handler_errors": 0}
        self.conns = set()          # Conn of every connection being served
        self.listening = []         # (stack, port) that App.listen opened
        self.closing = False
        self._all_closed = None
        self._hook = self.shutdown  # one bound method: what lifecycle.remove finds
        self._pinned = False

    # ---- shutdown ----

    def hook(self):
        """Keep this server's shutdown hook registered (App.listen). Otherwise it is
        registered only while the server has connections."""
        self._pinned = True
        lifecycle.on_shutdown(self._hook, name="http")

    def unlisten(self):
        for stack, port in self.listening:
            un = getattr(stack, "unlisten", None)
            if un is not None:
                un(port)
        self.listening = []

    async def shutdown(self, reason=None):
        """Stop accepting, close idle connections, let the requests under way finish
        (their responses say Connection: close); returns when no connection is left."""
        self.closing = True
        self.unlisten()
        for c in list(self.conns):
            if c.idle:                  # waiting for a next request: close it now
                c.drained = True
                c.task.cancel()
        while self.conns:
            self._all_closed = sched.Promise()
            await self._all_closed

    # ---- helpers for apps ----

    def date(self):
        """The Date and Server header lines (Date changes once a second)."""
        s = self.clock()
        if s != self._dsec:
            self._dsec = s
            self._dhdr = b"Date: " + http_date(s) + b"\r\n" + self._server_hdr
        return self._dhdr

    def say(self, line):
        if self.log is not None:
            self.log(line)

    def _logline(self, c, req, status, nbytes):
        if self.log is None:
            return
        if self._src is not None and not self._src.enabled(20):     # 20: logs.INFO
            return
        peer = c.peer
        who = "%s:%s" % (peer[0], peer[1]) if peer else "-"
        if req is None:
            line = "-"
        else:
            line = (req.method + b" " + req.target).decode()
        self.log('%s "%s" %d %d' % (who, line, status, nbytes))

    async def write(self, c, data):
        c.expire_in(self.write_timeout)
        await c.write(data)

    @staticmethod
    def conn_hdr(req, keep):
        if not keep:
            return b"Connection: close\r\n"
        if req.version == 10:
            return b"Connection: keep-alive\r\n"
        return b""

    async def error(self, c, status, keep, head_only, extra=b""):
        """A small HTML page for status; returns the body bytes sent."""
        reason = REASONS.get(status, b"Error")
        body = b"<!DOCTYPE html>\n<html><head><title>%d %s</title></head><body><h1>%d %s" \
               b"</h1></body></html>\n" % (status, reason, status, reason)
        head = b"".join((b"HTTP/1.1 %d %s\r\n" % (status, reason), self.date(),
                         b"Content-Type: text/html; charset=utf-8\r\n",
                         b"Content-Length: %d\r\n" % len(body), extra,
                         b"" if keep else b"Connection: close\r\n", b"\r\n"))
        await self.write(c, head if head_only else head + body)
        return 0 if head_only else len(body)

    def _too_big(self, buf):
        # Which limit did an oversized head break: the request line (414) or fields (431)?
        nl = buf.find(b"\n")
        if nl < 0 or nl > self.max_uri + 16:
            return HttpError(414, "request line too long")
        return HttpError(431, "request head larger than %d bytes" % self.max_head)

    # ---- reading ----

    async def _read_head(self, c, buf, pos):
        """(head, buf, pos) once a whole head is buffered at buf[pos:]; None when the
        peer goes away. HttpError for oversized heads. The first byte must come within
        idle_timeout, the whole head within head_timeout of its first byte (slowloris).
        Pipelined requests are consumed by moving pos, not by re-slicing the buffer."""
        scanned = pos
        started = False
        c.expire_in(self.idle_timeout)
        while True:
            if pos < len(buf):
                if not started:
                    started = c.partial = True
                    c.expire_in(self.head_timeout)
                pos = skip_leading_crlf(buf, pos)
                if scanned < pos:
                    scanned = pos
            if pos < len(buf):
                end = find_head_end(buf, scanned, pos)
                if end >= 0:
                    if end - pos > self.max_head:
                        raise self._too_big(buf[pos:])
                    c.partial = False
                    return buf[pos:end], buf, end
                if len(buf) - pos > self.max_head:
                    raise self._too_big(buf[pos:])
                scanned = len(buf)
            if not started:
                c.idle = not self.closing
            data = await c.read()
            c.idle = False
            if not data:
                return None
            if not started:
                started = c.partial = True
                c.expire_in(self.head_timeout)
            if pos:
                buf = buf[pos:]
                scanned -= pos
                pos = 0
            buf = buf + data if buf else data

    async def _more(self, c, buf, pos):
        # buf[pos:] plus the next read; Close if the peer stops mid-body
        data = await c.read()
        if not data:
            raise Close()
        return buf[pos:] + data if pos < len(buf) else data, 0

    async def _read_body(self, c, buf, pos, n):
        """(body, buf, pos): the next n bytes."""
        c.expire_in(self.head_timeout)
        while len(buf) - pos < n:
            buf, pos = await self._more(c, buf, pos)
        return buf[pos:pos + n], buf, pos + n

    async def _read_chunked(self, c, buf, pos):
        """(body, buf, pos): a chunked body (RFC 9112 7.1), trailers read and dropped."""
        c.expire_in(self.head_timeout)
        parts = []
        total = 0
        while True:
            nl = buf.find(b"\n", pos)
            while nl < 0:
                if len(buf) - pos > 1024:
                    raise HttpError(400, "chunk size line too long")
                buf, pos = await self._more(c, buf, pos)
                nl = buf.find(b"\n", pos)
            size = parse_chunk_size(buf[pos:nl])
            pos = nl + 1
            if size == 0:
                break
            total += size
            if total > self.max_body:
                raise HttpError(413, "request body larger than %d bytes" % self.max_body)
            part, buf, pos = await self._read_body(c, buf, pos, size)
            parts.append(part)
            while len(buf) - pos < 2:
                buf, pos = await self._more(c, buf, pos)
            if buf[pos:pos + 2] == b"\r\n":
                pos += 2
            elif buf[pos] == 10:
                pos += 1
            else:
                raise HttpError(400, "chunk data not followed by CRLF")
        # trailer section: lines until an empty one, bounded like a head
        seen = 0
        while True:
            nl = buf.find(b"\n", pos)
            while nl < 0:
                if len(buf) - pos > self.max_head:
                    raise HttpError(431, "trailer section too large")
                buf, pos = await self._more(c, buf, pos)
                nl = buf.find(b"\n", pos)
            line = buf[pos:nl]
            pos = nl + 1
            seen += len(line) + 1
            if seen > self.max_head:
                raise HttpError(431, "trailer section too large")
            if line == b"" or line == b"\r":
                break
        return b"".join(parts), buf, pos

    # ---- the connection loop ----

    async def handle(self, flow):
        """Serve one connection until close, error or timeout; always closes flow."""
        self.stats["connections"] += 1
        c = Conn(flow, self._tick)
        if not self.conns:
            lifecycle.on_shutdown(self._hook, name="http")
            if lifecycle.stopping():
                self.closing = True      # accepted while the unikernel shuts down
        self.conns.add(c)
        buf = b""
        pos = 0
        try:
            while True:
                req = None
                try:
                    got = await self._read_head(c, buf, pos)
                    if got is None:
                        return
                    head, buf, pos = got
                    req = parse_request(head, self.max_uri, self.max_headers)
                    self.stats["requests"] += 1
                    keep, buf, pos = await self._prepare(c, req, buf, pos)
                    status, nbytes = await self.app.respond(self, c, req, keep)
                except HttpError as e:
                    self.stats["errors"] += 1
                    head_only = req is not None and req.method == b"HEAD"
                    nbytes = await self.error(c, e.status, False, head_only)
                    self._logline(c, req, e.status, nbytes)
                    if e.status == 413:
                        await self._linger(c)
                    return
                self._logline(c, req, status, nbytes)
                if not keep or c.close_after or self.closing:
                    return
                await sched.sleep(0)      # one request per turn: pipeliners can't hog
        except sched.Cancelled:
            if c.drained:
                return                   # idle while the server shuts down
            if not c.fired:
                raise                    # cancelled from outside: not ours to swallow
            await self._timed_out(c)
        except (Close, OSError):
            return
        finally:
            c.stop()
            try:
                await flow.close()
            except Exception:
                pass
            self.conns.discard(c)
            if not self.conns:
                if self._all_closed is not None:
                    self._all_closed.wakeup()
                    self._all_closed = None
                if not self._pinned:
                    lifecycle.remove(self._hook)

    async def _linger(self, c):
        # After refusing a body we did not read: take what the client still sends for a
        # moment, so closing with unread data does not reset the connection before the
        # client has read our answer (host sockets send RST then).
        c.expire_in(2.0)
        left = 4 * self.max_body + 65536
        try:
            while left > 0:
                data = await c.read()
                if not data:
                    return
                left -= len(data)
        except sched.Cancelled:
            if not c.fired:
                raise
        except OSError:
            pass

    async def _timed_out(self, c):
        self.stats["timeouts"] += 1
        if not c.partial:
            return                       # idle keep-alive or stuck writer: just close
        try:
            await self.error(c, 408, False, False)
        except sched.Cancelled:
            if not c.fired:
                raise
        except OSError:
            pass

    async def _prepare(self, c, req, buf, pos):
        """Connection persistence and the request body (into req.body); (keep, buf, pos)."""
        h = req.headers
        conn = h.get(b"connection")
        if req.version == 11:
            keep = not has_token(conn, b"close")
        else:
            keep = has_token(conn, b"keep-alive")
        if self.closing:
            keep = False
        te = h.get(b"transfer-encoding")
        cl = h.get(b"content-length")
        if te is not None:
            if cl is not None:
                raise HttpError(400, "both Transfer-Encoding and Content-Length")
            # chunked must be the final (and here the only) coding: RFC 9112 6.3
            if te.strip(b" \t").lower() != b"chunked" or req.version == 10:
                raise HttpError(501, "request Transfer-Encoding not supported")
            await self._continue(c, req)
            req.body, buf, pos = await self._read_chunked(c, buf, pos)
        elif cl is not None:
            n = parse_content_length(cl)
            if n > self.max_body:
                raise HttpError(413, "request body larger than %d bytes" % self.max_body)
            if n:
                await self._continue(c, req)
                req.body, buf, pos = await self._read_body(c, buf, pos, n)
        return keep, buf, pos

    async def _continue(self, c, req):
        # RFC 9110 10.1.1: a client that sent Expect: 100-continue waits for this
        if req.version == 11 and has_token(req.headers.get(b"expect"), b"100-continue"):
            await self.write(c, b"HTTP/1.1 100 Continue\r\n\r\n")

    # ---- app responses ----

    async def send_response(self, c, req, keep, status, headers, body, head_only):
        """Write a response: headers is the header lines (bytes, each ending in CRLF);
        body is bytes (Content-Length) or an iterator / async iterator of bytes
        (chunked for HTTP/1.1, close-delimited for 1.0). Returns the body bytes sent."""
        reason = REASONS.get(status, b"Unknown")
        start = b"HTTP/1.1 %d %s\r\n" % (status, reason)
        no_body = head_only or status == 204 or status == 304 or status < 200
        if isinstance(body, (bytes, bytearray, memoryview)):
            length = b"" if status == 204 or status == 304 else \
                b"Content-Length: %d\r\n" % len(body)
            head = b"".join((start, self.date(), headers, length,
                             self.conn_hdr(req, keep), b"\r\n"))
            if no_body or not body:
                await self.write(c, head)
                return 0
            if len(body) <= self.chunk:
                await self.write(c, head + body)
            else:
                await self.write(c, head)
                mv = memoryview(body)
                for off in range(0, len(body), self.chunk):
                    await self.write(c, mv[off:off + self.chunk])
                    await sched.sleep(0)
            return len(body)
        chunked = req.version == 11
        if not chunked:
            keep = False          # an HTTP/1.0 client learns the end from the close
        head = b"".join((start, self.date(), headers,
                         b"Transfer-Encoding: chunked\r\n" if chunked else b"",
                         self.conn_hdr(req, keep), b"\r\n"))
        await self.write(c, head)
        if no_body:
            return 0
        sent = 0
        if hasattr(body, "__aiter__"):
            it = body.__aiter__()
            while True:
                try:
                    part = await it.__anext__()
                except StopAsyncIteration:
                    break
                sent += await self._part(c, part, chunked)
        else:
            for part in body:
                sent += await self._part(c, part, chunked)
                await sched.sleep(0)
        if chunked:
            await self.write(c, b"0\r\n\r\n")
        else:
            c.close_after = True   # the body's end is the connection's end
        return sent

    async def _part(self, c, part, chunked):
        if isinstance(part, str):
            part = part.encode()
        n = len(part)
        if n == 0:
            return 0              # an empty chunk would end a chunked body
        if chunked:
            await self.write(c, b"%x\r\n" % n + part + b"\r\n")
        else:
            await self.write(c, part)
        return n
