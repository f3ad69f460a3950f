# HTTP/1.1 static file server over a kv store (crunch or fat): GET/HEAD, keep-alive and
# pipelining, ETag/Last-Modified validators, conditional and Range requests, limits and
# timeouts. One task per connection: `stack.listen(80, Server(kv).handle)`.
#
# Per-file response pieces (validators, type, length) are computed once and cached; the
# per-request path is: parse head -> cached lookup -> join a few bytes -> write chunks.
# Bodies go out in chunks sliced from a memoryview when the store offers one (crunch),
# never as one concatenated copy of the file.
from morgana import sched
from morgana.http import mimetypes
from morgana.http.conn import Conn
from morgana.http.parse import (
    HttpError, KNOWN_METHODS, find_head_end, skip_leading_crlf, parse_request,
    parse_content_length, has_token, target_path)
from morgana.http.date import http_date, parse_http_date
from morgana.http.range import Unsatisfiable, match, none_match, parse_range, coalesce

REASONS = {
    200: b"OK", 206: b"Partial Content", 301: b"Moved Permanently",
    304: b"Not Modified", 400: b"Bad Request", 404: b"Not Found",
    405: b"Method Not Allowed", 408: b"Request Timeout", 412: b"Precondition Failed",
    413: b"Content Too Large",
    414: b"URI Too Long", 416: b"Range Not Satisfiable",
    431: b"Request Header Fields Too Large", 500: b"Internal Server Error",
    501: b"Not Implemented", 505: b"HTTP Version Not Supported",
}

_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/"


class _Close(Exception):
    """Stop serving this connection (peer gone, timed out, or framing lost)."""


class _File:
    # Everything about one file that does not change between requests.
    def __init__(self, key, size, mtime, ctype, view):
        self.key = key
        self.size = size
        self.mtime = mtime
        self.view = view            # memoryview over the whole file, or None
        self.ctype = ctype.encode()
        self.etag = b'"%x-%x"' % (mtime, size)
        lm = http_date(mtime)
        self.validators = b"Last-Modified: " + lm + b"\r\nETag: " + self.etag + b"\r\n"
        self.hdrs = (b"Content-Type: " + self.ctype + b"\r\n" + self.validators
                     + b"Accept-Ranges: bytes\r\n")
        self.len200 = b"Content-Length: %d\r\n" % size


def _quote(name):
    # percent-encode a path for a Location header
    out = bytearray()
    for c in name.encode():
        if c in _UNRESERVED:
            out.append(c)
        else:
            out += b"%%%02X" % c
    return bytes(out)


def _wall():
    return sched.platform().wall_ns() // 1000000000


class Server:
    def __init__(self, kv, log=None, max_head=8192, max_headers=64, max_uri=2048,
                 max_body=65536, idle_timeout=15.0, head_timeout=10.0,
                 write_timeout=30.0, chunk=16384, index="index.html",
                 server_name="Morgana", max_cache=512, clock=_wall):
        if chunk < 512:
            raise ValueError("chunk must be at least 512 bytes")
        if max_head < 256 or max_uri < 16 or max_headers < 1:
            raise ValueError("limits too small to serve any request")
        self.kv = kv
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
        self.index = index
        self.max_cache = max_cache
        self.clock = clock
        self._server_hdr = b"Server: " + server_name.encode() + b"\r\n"
        self._files = {}
        self._dsec = -1
        self._dhdr = b""
        self._bseq = 0
        self._ctype = getattr(kv, "content_type", None)
        self._view = getattr(kv, "view", None)
        self.stats = {"connections": 0, "requests": 0, "errors": 0, "timeouts": 0}

    # ---- small helpers ----

    def _date(self):
        s = self.clock()
        if s != self._dsec:
            self._dsec = s
            self._dhdr = b"Date: " + http_date(s) + b"\r\n" + self._server_hdr
        return self._dhdr

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

    def _oops(self, e):
        # a store failure (corrupt FAT, I/O error) is the server's fault, not the client's
        self.stats["errors"] += 1
        if self.log is not None:
            self.log("store error: %r" % (e,))

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
            data = await c.read()
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

    async def _discard(self, c, buf, pos, n):
        # Skip a request body of n bytes (GET with a body, or a 405'd POST).
        c.expire_in(self.head_timeout)
        while len(buf) - pos < n:
            n -= len(buf) - pos
            buf = await c.read()
            pos = 0
            if not buf:
                raise _Close()
        return buf, pos + n

    async def _write(self, c, data):
        c.expire_in(self.write_timeout)
        await c.write(data)

    # ---- the connection loop ----

    async def handle(self, flow):
        """Serve one connection until close, error or timeout; always closes flow."""
        self.stats["connections"] += 1
        c = Conn(flow, self._tick)
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
                    status, nbytes = await self._respond(c, req, keep)
                except HttpError as e:
                    self.stats["errors"] += 1
                    head_only = req is not None and req.method == b"HEAD"
                    nbytes = await self._error(c, e.status, False, head_only)
                    self._logline(c, req, e.status, nbytes)
                    return
                self._logline(c, req, status, nbytes)
                if not keep:
                    return
                await sched.sleep(0)      # one request per turn: pipeliners can't hog
        except sched.Cancelled:
            if not c.fired:
                raise                    # cancelled from outside: not ours to swallow
            await self._timed_out(c)
        except (_Close, OSError):
            return
        finally:
            c.stop()
            try:
                await flow.close()
            except Exception:
                pass

    async def _timed_out(self, c):
        self.stats["timeouts"] += 1
        if not c.partial:
            return                       # idle keep-alive or stuck writer: just close
        try:
            await self._error(c, 408, False, False)
        except sched.Cancelled:
            if not c.fired:
                raise
        except OSError:
            pass

    async def _prepare(self, c, req, buf, pos):
        """Connection persistence and request body handling; (keep, buf, pos)."""
        h = req.headers
        conn = h.get(b"connection")
        if req.version == 11:
            keep = not has_token(conn, b"close")
        else:
            keep = has_token(conn, b"keep-alive")
        if b"transfer-encoding" in h:
            # we take no request bodies; a chunked one could not even be skipped safely
            if b"content-length" in h:
                raise HttpError(400, "both Transfer-Encoding and Content-Length")
            raise HttpError(501, "request Transfer-Encoding not supported")
        cl = h.get(b"content-length")
        if cl is not None:
            n = parse_content_length(cl)
            if n > self.max_body:
                raise HttpError(413, "request body larger than %d bytes" % self.max_body)
            if n:
                buf, pos = await self._discard(c, buf, pos, n)
        return keep, buf, pos

    def _conn_hdr(self, req, keep):
        if not keep:
            return b"Connection: close\r\n"
        if req.version == 10:
            return b"Connection: keep-alive\r\n"
        return b""

    async def _error(self, c, status, keep, head_only, extra=b""):
        reason = REASONS.get(status, b"Error")
        body = b"<!DOCTYPE html>\n<html><head><title>%d %s</title></head><body><h1>%d %s" \
               b"</h1></body></html>\n" % (status, reason, status, reason)
        head = b"".join((b"HTTP/1.1 %d %s\r\n" % (status, reason), self._date(),
                         b"Content-Type: text/html; charset=utf-8\r\n",
                         b"Content-Length: %d\r\n" % len(body), extra,
                         b"" if keep else b"Connection: close\r\n", b"\r\n"))
        await self._write(c, head if head_only else head + body)
        return 0 if head_only else len(body)

    async def _lookup(self, name, is_dir):
        """_File for a request path, the string 'redirect' for a directory named without
        its trailing slash, or None."""
        key = (name + "/" + self.index if name else self.index) if is_dir else name
        f = self._files.get(key)
        if f is not None:
            return f
        size = await self.kv.size(key)
        if size is None:
            if not is_dir and await self.kv.size(name + "/" + self.index) is not None:
                return "redirect"
            return None
        ctype = self._ctype(key) if self._ctype is not None else None
        view = self._view(key) if self._view is not None else None
        f = _File(key, size, int(self.kv.mtime(key) or 0),
                  ctype or mimetypes.guess(key), view)
        if len(self._files) >= self.max_cache:
            self._files = {}        # bounded: case variants on FAT could grow it forever
        self._files[key] = f
        return f

    async def _respond(self, c, req, keep):
        m = req.method
        if m != b"GET" and m != b"HEAD":
            if m in KNOWN_METHODS:
                n = await self._error(c, 405, keep, False, b"Allow: GET, HEAD\r\n")
                return 405, n
            raise HttpError(501, "method not implemented")
        head_only = m == b"HEAD"
        name, is_dir = target_path(req.target)
        try:
            f = await self._lookup(name, is_dir)
        except Exception as e:
            self._oops(e)
            raise HttpError(500, "store error")
        if f is None:
            return 404, await self._error(c, 404, keep, head_only)
        if f == "redirect":
            q = req.target.find(b"?")
            query = req.target[q:] if q >= 0 else b""     # keep ?query for the directory
            loc = b"Location: /" + _quote(name) + b"/" + query + b"\r\n"
            return 301, await self._error(c, 301, keep, head_only, loc)
        h = req.headers
        conn = self._conn_hdr(req, keep)
        # preconditions in RFC 9110 13.2.2 order: If-Match / If-Unmodified-Since first
        im = h.get(b"if-match")
        if im is not None:
            held = match(im, f.etag)
        else:
            ius = h.get(b"if-unmodified-since")
            t = parse_http_date(ius) if ius is not None else None
            held = t is None or f.mtime <= t
        if not held:
            return 412, await self._error(c, 412, keep, head_only)
        inm = h.get(b"if-none-match")
        if inm is not None:
            fresh = none_match(inm, f.etag)
        else:
            ims = h.get(b"if-modified-since")
            t = parse_http_date(ims) if ims is not None else None
            fresh = t is not None and f.mtime <= t
        if fresh:
            await self._write(c, b"".join((b"HTTP/1.1 304 Not Modified\r\n",
                                              self._date(), f.validators, conn, b"\r\n")))
            return 304, 0
        rng = h.get(b"range")
        if rng is not None and not head_only and self._if_range(h.get(b"if-range"), f):
            try:
                ranges = parse_range(rng, f.size)
            except Unsatisfiable:
                extra = b"Content-Range: bytes */%d\r\n" % f.size
                return 416, await self._error(c, 416, keep, False, extra)
            if ranges is not None:
                ranges = coalesce(ranges)
                if len(ranges) == 1:
                    a, b = ranges[0]
                    head = b"".join((b"HTTP/1.1 206 Partial Content\r\n", self._date(),
                                     f.hdrs, b"Content-Range: bytes %d-%d/%d\r\n"
                                     % (a, b, f.size),
                                     b"Content-Length: %d\r\n" % (b - a + 1), conn, b"\r\n"))
                    await self._send(c, head, f, a, b - a + 1)
                    return 206, b - a + 1
                return 206, await self._send_multi(c, f, ranges, conn)
        head = b"".join((b"HTTP/1.1 200 OK\r\n", self._date(), f.hdrs, f.len200, conn,
                         b"\r\n"))
        if head_only:
            await self._write(c, head)
            return 200, 0
        await self._send(c, head, f, 0, f.size)
        return 200, f.size

    def _if_range(self, v, f):
        # RFC 9110 13.1.5: apply Range only if the validator still matches (strongly).
        if v is None:
            return True
        v = v.strip(b" \t")
        if v[:1] == b'"':
            return v == f.etag
        if v[:2] == b"W/":
            return False
        return parse_http_date(v) == f.mtime

    async def _chunk_of(self, f, off, n):
        if f.view is not None:
            return f.view[off:off + n]
        try:
            data = await self.kv.read(f.key, off, n)
        except Exception as e:
            self._oops(e)
            raise _Close()
        if len(data) != n:
            raise _Close()      # file shrank under us / store error: framing is lost
        return data

    async def _send(self, c, head, f, start, length):
        ch = self.chunk
        if length <= ch:
            # one write for small responses: fewer segments, better for pipelining
            await self._write(c, head + await self._chunk_of(f, start, length)
                              if length else head)
            return
        await self._write(c, head)
        off = start
        end = start + length
        while off < end:
            n = end - off if end - off < ch else ch
            await self._write(c, await self._chunk_of(f, off, n))
            off += n
            await sched.sleep(0)        # a big body must not hold up other connections

    async def _send_multi(self, c, f, ranges, conn):
        # multipart/byteranges (RFC 9110 14.6); the boundary never occurs in part headers
        self._bseq += 1
        boundary = b"morgana-%08x-%x" % (self._bseq, f.size ^ f.mtime)
        parts = []
        total = 0
        for a, b in ranges:
            ph = (b"\r\n--" + boundary + b"\r\nContent-Type: " + f.ctype
                  + b"\r\nContent-Range: bytes %d-%d/%d\r\n\r\n" % (a, b, f.size))
            parts.append((ph, a, b - a + 1))
            total += len(ph) + b - a + 1
        tail = b"\r\n--" + boundary + b"--\r\n"
        total += len(tail)
        await self._write(c, b"".join((
            b"HTTP/1.1 206 Partial Content\r\n", self._date(),
            b"Content-Type: multipart/byteranges; boundary=" + boundary + b"\r\n",
            f.validators, b"Content-Length: %d\r\n" % total, conn, b"\r\n")))
        for ph, a, n in parts:
            await self._send(c, ph, f, a, n)
        await self._write(c, tail)
        return total
