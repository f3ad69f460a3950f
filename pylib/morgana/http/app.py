# The HTTP application API: routes with path parameters for any method, a Request with
# the decoded path, query, headers and body, and responses made from what a handler
# returns (bytes, str, dict/list as JSON, a Response, a (body, status[, headers]) tuple,
# or a generator for a chunked stream). Static files from a kv store are one route among
# the others (`app.static(prefix, kv)`). The connection side (keep-alive, pipelining,
# limits, request bodies, timeouts) is morgana.http.server's; an App is what it calls.
#
#     app = App()
#     @app.route("/api/notes/<int:id>", methods=("GET", "DELETE"))
#     async def note(req, id): ...
#     await app.serve(env.stack, 80)
import json
import sys

from morgana import sched
from morgana.http import server as _server
from morgana.http.parse import HttpError, target_path, parse_query, KNOWN_METHODS
from morgana.http.files import Files


def abort(status, why=""):
    """Raise from a handler to answer with an error page for status (the connection is
    kept). abort(404) is `raise HttpError(404)`."""
    raise HttpError(status, why)


def _str(b):
    try:
        return b.decode()
    except UnicodeError:
        return "".join(chr(c) for c in b)        # latin-1, which every byte decodes as


class Request:
    """What a handler gets. method, path (decoded), query_string, args (dict), headers
    (dict, lower-case names), body (bytes), params (the route's path parameters),
    peer (ip, port)."""

    def __init__(self, raw, path, peer):
        self.raw = raw                      # morgana.http.parse.Request (bytes)
        self.method = raw.method.decode()
        self.path = path
        t = raw.target
        q = t.find(b"?")
        self.query_string = _str(t[q + 1:]) if q >= 0 else ""
        self.body = raw.body
        self.peer = peer
        self.params = {}
        self._args = None
        self._headers = None
        self._form = None

    @property
    def args(self):
        if self._args is None:
            self._args = parse_query(self.query_string)
        return self._args

    @property
    def headers(self):
        if self._headers is None:
            h = {}
            for k, v in self.raw.headers.items():
                h[k.decode()] = _str(v)
            self._headers = h
        return self._headers

    def header(self, name, default=None):
        v = self.raw.headers.get(name.lower().encode())
        return default if v is None else _str(v)

    @property
    def content_type(self):
        return self.header("content-type", "")

    @property
    def text(self):
        return self.body.decode()

    def json(self):
        """The body as JSON; 400 for the client when it is not."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeError):
            raise HttpError(400, "request body is not JSON")

    @property
    def form(self):
        """An application/x-www-form-urlencoded body as a dict (else {})."""
        if self._form is None:
            ct = self.content_type.split(";")[0].strip().lower()
            self._form = {}
            if ct == "application/x-www-form-urlencoded":
                try:
                    self._form = parse_query(self.body.decode())
                except UnicodeError:
                    raise HttpError(400, "form body is not UTF-8")
        return self._form


def _header_lines(headers):
    out = []
    if headers is None:
        return out
    items = headers.items() if hasattr(headers, "items") else headers
    for k, v in items:
        k = str(k)
        v = str(v)
        if "\r" in k or "\n" in k or ":" in k or "\r" in v or "\n" in v:
            raise ValueError("header %r: CR, LF or ':' in a response header" % (k,))
        out.append((k, v))
    return out


class Response:
    """A response: body is bytes, str (UTF-8), dict or list (JSON), or an iterator,
    generator or async iterator (__aiter__/__anext__) of bytes or str, sent chunked.
    headers: dict or list of pairs. (MicroPython has no async generators: a class with
    __anext__ streams from async code on both Pythons.)"""

    def __init__(self, body=b"", status=200, headers=None, content_type=None):
        self.status = status
        self.headers = _header_lines(headers)
        ct = content_type
        if isinstance(body, str):
            body = body.encode()
            ct = ct or "text/html; charset=utf-8"
        elif isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            ct = ct or "application/json"
        elif isinstance(body, (bytes, bytearray, memoryview)):
            ct = ct or "application/octet-stream"
        elif hasattr(body, "__aiter__") or hasattr(body, "__next__") or hasattr(body, "send"):
            # an iterator or generator (MicroPython's have send, not always __next__)
            ct = ct or "application/octet-stream"
        else:
            raise TypeError("response body of type %s" % type(body).__name__)
        self.body = body
        if ct is not None and not self.has_header("content-type") and (body or
                                                                         status != 204):
            self.headers.append(("Content-Type", ct))

    def has_header(self, name):
        name = name.lower()
        for k, _ in self.headers:
            if k.lower() == name:
                return True
        return False

    def set_header(self, name, value):
        name = str(name)
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        self.headers += _header_lines([(name, value)])

    @staticmethod
    def json(obj, status=200, headers=None):
        return Response(json.dumps(obj), status, headers, "application/json")

    @staticmethod
    def redirect(location, status=302):
        return Response(b"", status, {"Location": location})

    def _head_bytes(self):
        return b"".join(("%s: %s\r\n" % (k, v)).encode() for k, v in self.headers)


def make_response(rv):
    """Response from a handler's return value."""
    if isinstance(rv, Response):
        return rv
    if rv is None:
        return Response(b"", 204)
    if isinstance(rv, tuple):
        if len(rv) == 2 and not isinstance(rv[1], int):
            return Response(rv[0], 200, rv[1])
        if len(rv) == 2:
            return Response(rv[0], rv[1])
        if len(rv) == 3:
            return Response(rv[0], rv[1], rv[2])
        raise TypeError("a handler returned a tuple of %d items" % len(rv))
    return Response(rv)


class _Route:
    def __init__(self, pattern, methods, handler):
        if not pattern.startswith("/"):
            raise ValueError("route %r: patterns start with /" % (pattern,))
        self.pattern = pattern
        self.methods = tuple(m.upper() for m in methods)
        for m in self.methods:
            if m.encode() not in KNOWN_METHODS and not m.isalpha():
                raise ValueError("route %r: bad method %r" % (pattern, m))
        self.handler = handler
        self.dir = pattern.endswith("/") and pattern != "/"
        self.segs = []            # (kind, text): kind None for a literal segment
        for s in pattern.strip("/").split("/") if pattern != "/" else []:
            if s.startswith("<") and s.endswith(">"):
                kind, _, name = s[1:-1].rpartition(":")
                kind = kind or "str"
                if kind not in ("str", "int", "path") or not name:
                    raise ValueError("route %r: bad parameter %r" % (pattern, s))
                self.segs.append((kind, name))
            else:
                self.segs.append((None, s))
        self.tail = bool(self.segs) and self.segs[-1][0] == "path"

    def match(self, segs, is_dir):
        """Path parameters as a dict, or None."""
        mine = self.segs
        n = len(mine)
        if self.tail:
            if len(segs) < n:
                return None
        elif len(segs) != n or (is_dir != self.dir and n):
            return None
        params = None
        for i in range(n):
            kind, text = mine[i]
            s = segs[i]
            if kind is None:
                if s != text:
                    return None
                continue
            if params is None:
                params = {}
            if kind == "str":
                if not s:
                    return None
                params[text] = s
            elif kind == "int":
                if not s.isdigit():
                    return None
                params[text] = int(s)
            else:
                params[text] = "/".join(segs[i:])
        return params if params is not None else {}


class _Mount:
    def __init__(self, prefix, files):
        self.prefix = prefix.encode() if prefix.endswith("/") else (prefix + "/").encode()
        self.segs = [s for s in prefix.strip("/").split("/") if s]
        self.files = files


class App:
    """Routes plus the server settings (keyword arguments of morgana.http.server.Server:
    log, max_body (1 MiB here), timeouts, ...). `app.handle` serves one connection."""

    def __init__(self, max_body=1 << 20, **server_options):
        server_options["max_body"] = max_body
        self.server = _server.Server(self, **server_options)
        self.handle = self.server.handle
        self.stats = self.server.stats
        self._routes = []
        self._mounts = []
        self._errors = {}
        self._sys_print = getattr(sys, "print_exception", None)

    def route(self, pattern, methods=("GET",)):
        """Decorator: handler(req, **params) for pattern, e.g. '/notes/<int:id>'.
        Parameters: <name> (one segment), <int:name>, <path:name> (the rest)."""
        if isinstance(methods, str):
            methods = (methods,)

        def deco(fn):
            self._routes.append(_Route(pattern, methods, fn))
            return fn
        return deco

    def get(self, pattern):
        return self.route(pattern, ("GET",))

    def post(self, pattern):
        return self.route(pattern, ("POST",))

    def put(self, pattern):
        return self.route(pattern, ("PUT",))

    def patch(self, pattern):
        return self.route(pattern, ("PATCH",))

    def delete(self, pattern):
        return self.route(pattern, ("DELETE",))

    def errorhandler(self, status):
        """Decorator: handler(req, status) makes the response for an error status."""
        def deco(fn):
            self._errors[status] = fn
            return fn
        return deco

    def static(self, prefix, kv, index="index.html"):
        """Serve kv's files under prefix ('/' for the whole site). Routes come first:
        a mount only answers what no route matched; the longest prefix wins."""
        if not prefix.startswith("/"):
            raise ValueError("static %r: prefixes start with /" % (prefix,))
        f = kv if isinstance(kv, Files) else Files(kv, index)
        self._mounts.append(_Mount(prefix, f))
        self._mounts.sort(key=lambda m: -len(m.segs))
        return f

    def listen(self, stack, port, backlog=None):
        """Serve port from now on (returns at once). On shutdown the server stops
        listening and lets the requests under way finish (morgana.lifecycle).
        backlog: the stack's listen backlog (None: its default; on the direct stack the
        half-open connections kept before SYN cookies, sized from its memory budget)."""
        if backlog is None:
            stack.listen(port, self.handle)
        else:
            stack.listen(port, self.handle, backlog)
        self.server.listening.append((stack, port))
        self.server.hook()

    async def serve(self, stack, port, backlog=None):
        """Listen on port and serve until cancelled (a unikernel's main awaits this)."""
        self.listen(stack, port, backlog)
        try:
            await sched.Promise()
        finally:
            self.server.unlisten()

    async def shutdown(self, reason=None):
        """What a shutdown does to this app (the hook registered by listen)."""
        await self.server.shutdown(reason)

    # ---- called by the server, per request ----

    async def respond(self, srv, c, req, keep):
        name, is_dir = target_path(req.target)
        segs = name.split("/") if name else []
        method = req.method.decode()
        allowed = None
        for r in self._routes:
            params = r.match(segs, is_dir)
            if params is None:
                continue
            if method in r.methods or (method == "HEAD" and "GET" in r.methods):
                rq = Request(req, "/" + name + ("/" if is_dir and name else ""), c.peer)
                rq.params = params
                return await self._call(srv, c, req, keep, rq, r.handler, params)
            allowed = (allowed or []) + list(r.methods)
        if allowed is None:
            for m in self._mounts:
                n = len(m.segs)
                if segs[:n] == m.segs:
                    return await m.files.serve(srv, c, req, keep, "/".join(segs[n:]),
                                               is_dir or len(segs) == n, m.prefix)
        if allowed is not None:
            if "GET" in allowed and "HEAD" not in allowed:
                allowed.append("HEAD")
            extra = b"Allow: " + ", ".join(allowed).encode() + b"\r\n"
            return await self._fail(srv, c, req, keep, 405, extra)
        if method.encode() not in KNOWN_METHODS:
            raise HttpError(501, "method not implemented")
        return await self._fail(srv, c, req, keep, 404)

    async def _call(self, srv, c, req, keep, rq, handler, params):
        try:
            rv = handler(rq, **params) if params else handler(rq)
            if hasattr(rv, "send"):
                rv = await rv
            resp = make_response(rv)
        except HttpError as e:
            return await self._fail(srv, c, req, keep, e.status)
        except sched.Cancelled:
            raise
        except Exception as e:
            srv.stats["handler_errors"] += 1
            self._report(srv, rq, e)
            return await self._fail(srv, c, req, keep, 500)
        return await self._send(srv, c, req, keep, resp)

    async def _send(self, srv, c, req, keep, resp):
        n = await srv.send_response(c, req, keep, resp.status, resp._head_bytes(),
                                    resp.body, req.method == b"HEAD")
        return resp.status, n

    async def _fail(self, srv, c, req, keep, status, extra=b""):
        h = self._errors.get(status)
        if h is not None:
            try:
                rv = h(Request(req, "", c.peer), status)
                if hasattr(rv, "send"):
                    rv = await rv
                resp = make_response(rv)
                if not isinstance(rv, Response) and not isinstance(rv, tuple):
                    resp.status = status
                return await self._send(srv, c, req, keep, resp)
            except Exception as e:
                srv.stats["handler_errors"] += 1
                self._report(srv, None, e)
                status = 500
        return status, await srv.error(c, status, keep, req.method == b"HEAD", extra)

    def _report(self, srv, rq, e):
        what = "%s %s" % (rq.method, rq.path) if rq is not None else "error handler"
        srv.say("handler for %s raised %r" % (what, e))
        if self._sys_print is not None:
            self._sys_print(e)           # MicroPython: the traceback on the console
        else:
            import traceback
            traceback.print_exception(type(e), e, e.__traceback__)
