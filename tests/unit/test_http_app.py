# The HTTP application API over a scripted flow: routes and parameters, methods, request
# bodies (Content-Length, chunked, 100-continue, 413), responses from every return type,
# streaming, errors (500 with the connection kept), static files as a route.
from morgana import sched
from morgana.http import App, Response, abort
from morgana.store import kv_crunch
from test_http_fakes import serve, parse_responses

MT = 1700000000
FILES = {
    "index.html": (MT, "text/html; charset=utf-8", b"<p>home</p>"),
    "s/app.css": (MT, "text/css; charset=utf-8", b"a{}"),
}


def req(method, path, body=None, extra=b"", chunked=False):
    h = method + b" " + path + b" HTTP/1.1\r\nHost: t\r\n" + extra
    if body is None:
        return h + b"\r\n"
    if chunked:
        enc = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in body) + b"0\r\n\r\n"
        return h + b"Transfer-Encoding: chunked\r\n\r\n" + enc
    return h + b"Content-Length: %d\r\n\r\n" % len(body) + body


class Parts:
    # an async iterator (MicroPython has no async generators)
    def __init__(self, n):
        self.i = 0
        self.n = n

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.i == self.n:
            raise StopAsyncIteration
        await sched.sleep(0)
        self.i += 1
        return b"part%d;" % (self.i - 1)


def make_app(**kw):
    app = App(clock=lambda: MT, **kw)
    notes = {}

    @app.route("/api/notes", methods=("GET", "POST"))
    async def notes_(r):
        if r.method == "POST":
            n = r.json()
            i = len(notes) + 1
            notes[i] = n["text"]
            return {"id": i, "text": n["text"]}, 201
        return {"notes": [{"id": k, "text": v} for k, v in sorted(notes.items())]}

    @app.get("/api/notes/<int:id>")
    def one(r, id):                      # plain functions are handlers too
        if id not in notes:
            abort(404)
        return {"id": id, "text": notes[id]}

    @app.delete("/api/notes/<int:id>")
    async def drop(r, id):
        notes.pop(id, None)
        return None

    @app.route("/echo", methods=("PUT", "PATCH", "OPTIONS"))
    async def echo(r):
        return Response(r.body, headers={"X-Method": r.method,
                                         "X-Len": str(len(r.body))},
                        content_type="application/octet-stream")

    @app.get("/hello/<name>")
    async def hello(r, name):
        return "hi %s %s" % (name, r.args.get("x", "-"))

    @app.get("/files/<path:rest>")
    async def rest(r, rest):
        return rest

    @app.get("/boom")
    async def boom(r):
        raise RuntimeError("handler bug")

    @app.get("/stream")
    async def stream(r):
        return Response(Parts(3), content_type="text/plain")

    @app.get("/gen")
    def sync_gen(r):
        return Response((("x" * n) for n in (1, 0, 3)), content_type="text/plain")

    @app.post("/form")
    async def form(r):
        return r.form

    @app.get("/hdr")
    async def hdr(r):
        return {"ua": r.header("User-Agent"), "all": r.headers.get("x-a")}

    app.static("/", kv_crunch.KV(FILES))
    return app


def run(script, **kw):
    flow = serve(make_app(**kw), script)
    return parse_responses(flow.data())


def test_json_round_trip_create_list_get_delete():
    r = run([req(b"POST", b"/api/notes", b'{"text": "milk"}'),
             req(b"POST", b"/api/notes", b'{"text": "eggs"}'),
             req(b"GET", b"/api/notes"), req(b"GET", b"/api/notes/2"),
             req(b"DELETE", b"/api/notes/1"), req(b"GET", b"/api/notes/1"),
             req(b"GET", b"/api/notes")])
    assert [x[0] for x in r] == [201, 201, 200, 200, 204, 404, 200], r
    import json
    assert json.loads(r[0][2]) == {"id": 1, "text": "milk"}
    assert r[0][1]["content-type"] == "application/json"
    assert json.loads(r[2][2])["notes"] == [{"id": 1, "text": "milk"},
                                           {"id": 2, "text": "eggs"}]
    assert json.loads(r[3][2]) == {"id": 2, "text": "eggs"}
    assert json.loads(r[6][2])["notes"] == [{"id": 2, "text": "eggs"}]
    assert "content-length" not in r[4][1] and r[4][2] == b""


def test_path_parameters_query_and_types():
    r = run([req(b"GET", b"/hello/w%20orld?x=1+2&y"), req(b"GET", b"/api/notes/abc"),
             req(b"GET", b"/files/a/b/c.txt"), req(b"GET", b"/hello/")])
    assert r[0][0] == 200 and r[0][2] == b"hi w orld 1 2"
    assert r[0][1]["content-type"] == "text/html; charset=utf-8"
    assert r[1][0] == 404               # <int:id> does not match "abc"
    assert r[2][2] == b"a/b/c.txt"
    assert r[3][0] == 404


def test_every_method_and_405_with_allow():
    body = b"\x00\x01binary"
    flow = serve(make_app(), [req(b"PUT", b"/echo", body), req(b"PATCH", b"/echo", b"p"),
                              req(b"OPTIONS", b"/echo", b""), req(b"GET", b"/echo"),
                              req(b"PUT", b"/api/notes"), req(b"HEAD", b"/api/notes")])
    r = parse_responses(flow.data(), head_requests=(5,))
    assert r[5][0] == 200 and r[5][1]["content-type"] == "application/json"
    assert r[0][0] == 200 and r[0][2] == body and r[0][1]["x-method"] == "PUT"
    assert r[1][1]["x-method"] == "PATCH" and r[2][1]["x-len"] == "0"
    assert r[3][0] == 405 and r[3][1]["allow"] == "PUT, PATCH, OPTIONS"
    assert r[4][0] == 405 and r[4][1]["allow"] == "GET, POST, HEAD"


def test_head_of_a_get_route_has_no_body():
    flow = serve(make_app(), [req(b"HEAD", b"/hello/x"), req(b"GET", b"/hello/y")])
    r = parse_responses(flow.data(), head_requests=(0,))
    assert r[0][0] == 200 and r[0][1]["content-length"] == "6" and r[0][2] == b""
    assert r[1][2] == b"hi y -"


def test_chunked_upload_and_100_continue():
    parts = [b"{\"te", b"xt\": ", b"\"chunky\"}"]
    r = run([req(b"POST", b"/api/notes", parts, chunked=True),
             req(b"POST", b"/api/notes", b'{"text": "x"}', b"Expect: 100-continue\r\n"),
             req(b"GET", b"/api/notes/1")])
    assert [x[0] for x in r] == [201, 100, 201, 200], r
    assert b"chunky" in r[3][2]


def test_body_over_limit_is_413_and_not_read():
    big = b"a" * 5000
    r = run([req(b"POST", b"/api/notes", big, b"Expect: 100-continue\r\n")], max_body=4096)
    assert [x[0] for x in r] == [413]
    assert r[0][1]["connection"] == "close"
    r = run([req(b"POST", b"/api/notes", [b"a" * 3000, b"b" * 3000], chunked=True)],
            max_body=4096)
    assert [x[0] for x in r] == [413]


def test_handler_exception_is_500_and_the_connection_goes_on():
    app = make_app()
    flow = serve(app, [req(b"GET", b"/boom"), req(b"GET", b"/hello/after")])
    r = parse_responses(flow.data())
    assert [x[0] for x in r] == [500, 200]
    assert r[1][2] == b"hi after -"
    assert app.stats["handler_errors"] == 1


def test_bad_json_is_400():
    r = run([req(b"POST", b"/api/notes", b"{not json"), req(b"GET", b"/")])
    assert [x[0] for x in r] == [400, 200]


def test_streaming_responses_are_chunked():
    r = run([req(b"GET", b"/stream"), req(b"GET", b"/gen"), req(b"GET", b"/")])
    assert r[0][1]["transfer-encoding"] == "chunked"
    assert r[0][2] == b"part0;part1;part2;"
    assert r[1][2] == b"xxxx"              # the empty item is not sent (it would end it)
    assert r[2][2] == b"<p>home</p>"


def test_streaming_to_http10_closes_the_connection():
    flow = serve(make_app(), [b"GET /gen HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                              req(b"GET", b"/")])
    data = flow.data()
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Connection: close\r\n" in data and b"Transfer-Encoding" not in data
    assert data.endswith(b"\r\n\r\nxxxx")   # body to the close; the 2nd request unserved


def test_form_and_headers():
    r = run([req(b"POST", b"/form", b"a=1&b=%C3%A9+x",
                 b"Content-Type: application/x-www-form-urlencoded\r\n"),
             req(b"GET", b"/hdr", extra=b"User-Agent: t/1\r\nX-A: 1\r\nX-A: 2\r\n")])
    import json
    assert json.loads(r[0][2]) == {"a": "1", "b": "\u00e9 x"}
    assert json.loads(r[1][2]) == {"ua": "t/1", "all": "1, 2"}


def test_static_files_are_a_route_among_others():
    r = run([req(b"GET", b"/"), req(b"GET", b"/s/app.css"), req(b"GET", b"/s"),
             req(b"GET", b"/nope.html"), req(b"POST", b"/s/app.css", b"x")])
    assert r[0][2] == b"<p>home</p>" and r[1][2] == b"a{}"
    assert r[1][1]["etag"]
    assert r[2][0] == 404                   # no s/index.html: not a directory redirect
    assert r[3][0] == 404 and r[4][0] == 405


def test_static_under_a_prefix_redirects_with_it():
    app = App(clock=lambda: MT)
    app.static("/site", kv_crunch.KV({"d/index.html": (MT, "text/html", b"D")}))
    r = parse_responses(serve(app, [req(b"GET", b"/site/d"), req(b"GET", b"/site/d/"),
                                    req(b"GET", b"/other")]).data())
    assert r[0][0] == 301 and r[0][1]["location"] == "/site/d/"
    assert r[1][2] == b"D" and r[2][0] == 404


def test_error_handler_and_unknown_method():
    app = make_app()

    @app.errorhandler(404)
    def nf(r, status):
        return {"error": status}

    flow = serve(app, [req(b"GET", b"/api/notes/99"), req(b"BREW", b"/x")])
    r = parse_responses(flow.data())
    assert r[0][0] == 404 and r[0][2] == b'{"error": 404}'
    assert r[1][0] == 501


def test_bad_routes_and_headers_refused():
    app = App()
    for pat in ("nope", "/a/<float:x>", "/a/<>"):
        try:
            app.route(pat)(lambda r: None)
        except ValueError:
            continue
        raise AssertionError("route %r accepted" % pat)
    try:
        Response("x", headers={"X": "a\r\nSet-Cookie: evil"})
    except ValueError:
        return
    raise AssertionError("header injection accepted")
