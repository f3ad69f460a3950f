# Static files from a kv store (crunch or fat) over HTTP/1.1: GET/HEAD, ETag and
# Last-Modified validators, conditional and Range requests (one range or
# multipart/byteranges), directory index and redirects. An app in itself (`respond`) and a
# route of morgana.http.app.App (`app.static(prefix, kv)`); connections, limits, bodies
# and timeouts are morgana.http.server's. `Server(kv, ...)` is the static server alone.
#
# Per-file response pieces (validators, type, length) are computed once and cached; the
# per-request path is: cached lookup -> join a few bytes -> write chunks. Bodies go out in
# chunks sliced from a memoryview when the store offers one (crunch), never as one
# concatenated copy of the file.
from morgana import sched
from morgana.http import mimetypes
from morgana.http import server as _server
from morgana.http.server import Close
from morgana.http.parse import HttpError, KNOWN_METHODS, target_path
from morgana.http.date import http_date, parse_http_date
from morgana.http.range import Unsatisfiable, match, none_match, parse_range, coalesce

_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/"


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


def Server(kv, index="index.html", max_cache=512, **kw):
    """An HTTP server of kv's files alone (see morgana.http.server.Server for **kw)."""
    return _server.Server(Files(kv, index, max_cache), **kw)


class Files:
    def __init__(self, kv, index="index.html", max_cache=512, log=None):
        self.kv = kv
        self.index = index
        self.max_cache = max_cache
        self.log = log
        self._files = {}
        self._bseq = 0
        self._ctype = getattr(kv, "content_type", None)
        self._view = getattr(kv, "view", None)

    def _oops(self, srv, e):
        # a store failure (corrupt FAT, I/O error) is the server's fault, not the client's
        srv.stats["errors"] += 1
        srv.say("store error: %r" % (e,))

    async def respond(self, srv, c, req, keep):
        name, is_dir = target_path(req.target)
        return await self.serve(srv, c, req, keep, name, is_dir, b"/")

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

    async def serve(self, srv, c, req, keep, name, is_dir, prefix):
        """Answer req for the file `name` of the store (is_dir: the path ended in /);
        prefix: where the store is mounted in the URL space (b'/' at the root)."""
        m = req.method
        if m != b"GET" and m != b"HEAD":
            if m in KNOWN_METHODS:
                n = await srv.error(c, 405, keep, False, b"Allow: GET, HEAD\r\n")
                return 405, n
            raise HttpError(501, "method not implemented")
        head_only = m == b"HEAD"
        try:
            f = await self._lookup(name, is_dir)
        except Exception as e:
            self._oops(srv, e)
            raise HttpError(500, "store error")
        if f is None:
            return 404, await srv.error(c, 404, keep, head_only)
        if f == "redirect":
            q = req.target.find(b"?")
            query = req.target[q:] if q >= 0 else b""     # keep ?query for the directory
            loc = b"Location: " + prefix + _quote(name) + b"/" + query + b"\r\n"
            return 301, await srv.error(c, 301, keep, head_only, loc)
        h = req.headers
        conn = srv.conn_hdr(req, keep)
        # preconditions in RFC 9110 13.2.2 order: If-Match / If-Unmodified-Since first
        im = h.get(b"if-match")
        if im is not None:
            held = match(im, f.etag)
        else:
            ius = h.get(b"if-unmodified-since")
            t = parse_http_date(ius) if ius is not None else None
            held = t is None or f.mtime <= t
        if not held:
            return 412, await srv.error(c, 412, keep, head_only)
        inm = h.get(b"if-none-match")
        if inm is not None:
            fresh = none_match(inm, f.etag)
        else:
            ims = h.get(b"if-modified-since")
            t = parse_http_date(ims) if ims is not None else None
            fresh = t is not None and f.mtime <= t
        if fresh:
            await srv.write(c, b"".join((b"HTTP/1.1 304 Not Modified\r\n",
                                              srv.date(), f.validators, conn, b"\r\n")))
            return 304, 0
        rng = h.get(b"range")
        if rng is not None and not head_only and self._if_range(h.get(b"if-range"), f):
            try:
                ranges = parse_range(rng, f.size)
            except Unsatisfiable:
                extra = b"Content-Range: bytes */%d\r\n" % f.size
                return 416, await srv.error(c, 416, keep, False, extra)
            if ranges is not None:
                ranges = coalesce(ranges)
                if len(ranges) == 1:
                    a, b = ranges[0]
                    head = b"".join((b"HTTP/1.1 206 Partial Content\r\n", srv.date(),
                                     f.hdrs, b"Content-Range: bytes %d-%d/%d\r\n"
                                     % (a, b, f.size),
                                     b"Content-Length: %d\r\n" % (b - a + 1), conn, b"\r\n"))
                    await self._send(srv, c, head, f, a, b - a + 1)
                    return 206, b - a + 1
                return 206, await self._send_multi(srv, c, f, ranges, conn)
        head = b"".join((b"HTTP/1.1 200 OK\r\n", srv.date(), f.hdrs, f.len200, conn,
                         b"\r\n"))
        if head_only:
            await srv.write(c, head)
            return 200, 0
        await self._send(srv, c, head, f, 0, f.size)
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

    async def _chunk_of(self, srv, f, off, n):
        if f.view is not None:
            return f.view[off:off + n]
        try:
            data = await self.kv.read(f.key, off, n)
        except Exception as e:
            self._oops(srv, e)
            raise Close()
        if len(data) != n:
            raise Close()      # file shrank under us / store error: framing is lost
        return data

    async def _send(self, srv, c, head, f, start, length):
        ch = srv.chunk
        if length <= ch:
            # one write for small responses: fewer segments, better for pipelining
            await srv.write(c, head + await self._chunk_of(srv, f, start, length)
                              if length else head)
            return
        await srv.write(c, head)
        off = start
        end = start + length
        while off < end:
            n = end - off if end - off < ch else ch
            await srv.write(c, await self._chunk_of(srv, f, off, n))
            off += n
            await sched.sleep(0)        # a big body must not hold up other connections

    async def _send_multi(self, srv, c, f, ranges, conn):
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
        await srv.write(c, b"".join((
            b"HTTP/1.1 206 Partial Content\r\n", srv.date(),
            b"Content-Type: multipart/byteranges; boundary=" + boundary + b"\r\n",
            f.validators, b"Content-Length: %d\r\n" % total, conn, b"\r\n")))
        for ph, a, n in parts:
            await self._send(srv, c, ph, f, a, n)
        await srv.write(c, tail)
        return total
