# HTTP server behaviour over a scripted flow: serving, keep-alive, pipelining, directories,
# error statuses. Validators/ranges/timeouts are in test_http_cond.py / test_http_limits.py.
from morgana import sched
from morgana.http import files as http
from morgana.store import kv_crunch
from test_http_fakes import serve, parse_responses, PlainKV, FakeFlow

MT = 1700000000                       # Tue, 14 Nov 2023 22:13:20 GMT
BIG = bytes((i * 7 + (i >> 8)) & 255 for i in range(70000))
FILES = {
    "index.html": (MT, "text/html; charset=utf-8", b"<html>home</html>\n"),
    "css/site.css": (MT + 60, "text/css; charset=utf-8", b"body{color:red}\n"),
    "img/big.bin": (MT, "application/octet-stream", BIG),
    "docs/index.html": (MT, "text/html; charset=utf-8", b"<p>docs</p>"),
    "a b.txt": (MT, "text/plain; charset=utf-8", b"space"),
}


def server(**kw):
    kw.setdefault("clock", lambda: MT + 3600)
    return http.Server(kv_crunch.KV(FILES), **kw)


def get(path, extra=b"", method=b"GET", version=b"HTTP/1.1"):
    return (method + b" " + path + b" " + version + b"\r\nHost: t\r\n" + extra + b"\r\n")


def one(req, **kw):
    flow = serve(server(**kw), [req])
    head = (0,) if req.startswith(b"HEAD ") else ()
    r = parse_responses(flow.data(), head)
    assert len(r) == 1, r
    return r[0]


def test_get_index_headers_and_body():
    st, h, body = one(get(b"/"))
    assert st == 200
    assert body == b"<html>home</html>\n"
    assert h["content-type"] == "text/html; charset=utf-8"
    assert h["content-length"] == "18"
    assert h["last-modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert h["date"] == "Tue, 14 Nov 2023 23:13:20 GMT"
    assert h["etag"] == '"%x-%x"' % (MT, 18)
    assert h["accept-ranges"] == "bytes"
    assert "connection" not in h


def test_head_has_get_headers_without_body():
    st, h, body = one(get(b"/css/site.css", method=b"HEAD"))
    assert st == 200 and body == b""
    assert h["content-length"] == "16"
    assert h["content-type"] == "text/css; charset=utf-8"
    flow = serve(server(), [get(b"/css/site.css", method=b"HEAD")])
    assert flow.data().endswith(b"\r\n\r\n")      # nothing after the head


def test_big_file_exact_bytes_in_chunks_from_view():
    flow = serve(server(chunk=4096), [get(b"/img/big.bin")])
    st, h, body = parse_responses(flow.data())[0]
    assert st == 200 and body == BIG
    assert max(len(x) for x in flow.out) <= 4096
    assert len(flow.out) == 1 + (len(BIG) + 4095) // 4096


def test_big_file_over_plain_kv_reads_in_chunks():
    kv = PlainKV({"f.bin": (MT, BIG)})
    flow = serve(http.Server(kv, chunk=8192), [get(b"/f.bin")])
    st, h, body = parse_responses(flow.data())[0]
    assert st == 200 and body == BIG
    assert h["content-type"] == "application/octet-stream"
    assert all(n is not None and n <= 8192 for _, _, n in kv.reads)
    assert sum(n for _, _, n in kv.reads) == len(BIG)


def test_keep_alive_serves_sequential_requests():
    flow = serve(server(), [get(b"/"), get(b"/css/site.css"), get(b"/nope")])
    r = parse_responses(flow.data())
    assert [x[0] for x in r] == [200, 200, 404]
    assert r[1][2] == b"body{color:red}\n"


def test_pipelined_requests_answered_in_order():
    reqs = get(b"/css/site.css") + get(b"/", method=b"HEAD") + get(b"/docs/")
    flow = serve(server(), [reqs])
    r = parse_responses(flow.data(), (1,))
    assert [x[0] for x in r] == [200, 200, 200]
    assert r[0][2] == b"body{color:red}\n" and r[1][2] == b"" and r[2][2] == b"<p>docs</p>"


def test_request_split_into_single_bytes():
    req = get(b"/index.html")
    flow = serve(server(), [req[i:i + 1] for i in range(len(req))])
    r = parse_responses(flow.data())
    assert r[0][0] == 200 and r[0][2] == b"<html>home</html>\n"


def test_bare_lf_and_leading_empty_lines_accepted():
    flow = serve(server(), [b"\r\n\r\nGET /css/site.css HTTP/1.1\nHost: x\n\n"])
    assert parse_responses(flow.data())[0][0] == 200


def test_connection_close_stops_after_response():
    flow = serve(server(), [get(b"/", b"Connection: close\r\n") + get(b"/")])
    r = parse_responses(flow.data())
    assert len(r) == 1 and r[0][1]["connection"] == "close"


def test_http10_closes_unless_keep_alive():
    flow = serve(server(), [get(b"/", version=b"HTTP/1.0") + get(b"/")])
    r = parse_responses(flow.data())
    assert len(r) == 1 and r[0][1]["connection"] == "close"
    two = get(b"/", b"Connection: keep-alive\r\n", version=b"HTTP/1.0") * 2
    r = parse_responses(serve(server(), [two]).data())
    assert len(r) == 2 and r[0][1]["connection"] == "keep-alive"


def test_http10_without_host_is_fine():
    flow = serve(server(), [b"GET /css/site.css HTTP/1.0\r\n\r\n"])
    assert parse_responses(flow.data())[0][0] == 200


def test_directory_index_and_redirect():
    st, h, body = one(get(b"/docs/"))
    assert st == 200 and body == b"<p>docs</p>"
    st, h, body = one(get(b"/docs"))
    assert st == 301 and h["location"] == "/docs/"
    st, h, body = one(get(b"/docs/?q=1"))
    assert st == 200
    st, h, body = one(get(b"/docs?q=1&r=%20"))
    assert st == 301 and h["location"] == "/docs/?q=1&r=%20"
    st, h, body = one(get(b"/a%20b.txt/.."))                 # dot segment -> root
    assert st == 200


def test_percent_encoded_and_dot_segments():
    assert one(get(b"/a%20b.txt"))[2] == b"space"
    assert one(get(b"/img/../css/./site.css"))[0] == 200
    assert one(get(b"/../../../etc/passwd"))[0] == 404
    assert one(get(b"http://t/css/site.css"))[0] == 200
    assert one(get(b"/css%2fsite.css"))[0] == 400


def test_not_found_keeps_connection():
    flow = serve(server(), [get(b"/missing.html") + get(b"/")])
    r = parse_responses(flow.data())
    assert [x[0] for x in r] == [404, 200]
    assert r[0][1]["content-type"].startswith("text/html")


def test_method_statuses():
    st, h, _ = one(get(b"/", method=b"POST"))
    assert st == 405 and h["allow"] == "GET, HEAD"
    st, h, _ = one(get(b"/", method=b"DELETE"))
    assert st == 405
    st, h, _ = one(get(b"/", method=b"BREW"))
    assert st == 501 and h["connection"] == "close"


def test_post_body_is_skipped_and_connection_kept():
    req = get(b"/", b"Content-Length: 5\r\n", method=b"POST") + b"hello" + get(b"/")
    r = parse_responses(serve(server(), [req]).data())
    assert [x[0] for x in r] == [405, 200]


def test_version_statuses():
    assert one(get(b"/", version=b"HTTP/2.0"))[0] == 505
    assert one(get(b"/", version=b"HTTP/1.2"))[0] == 200
    assert one(get(b"/", version=b"HTTX/1.1"))[0] == 400


def test_bad_requests_get_400_and_close():
    for req in (b"GET /\r\n\r\n",                                   # HTTP/0.9 style
                b"GET / HTTP/1.1\r\n\r\n",                          # no Host
                b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",    # two Hosts
                b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",              # double space
                b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",              # space before colon
                b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",    # obs-fold
                b"GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n",          # NUL in value
                b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n",
                b"GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n",           # raw non-ASCII
                b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n",               # bad method token
                b"GET abc HTTP/1.1\r\nHost: a\r\n\r\n",             # not a path
                b"GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n",            # bad escape
                b"GET /%ff HTTP/1.1\r\nHost: a\r\n\r\n",            # not UTF-8
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"):   # TLS hello
        flow = serve(server(), [req + get(b"/")])
        r = parse_responses(flow.data())
        assert len(r) == 1 and r[0][0] == 400, (req, r)
        assert r[0][1]["connection"] == "close"


def test_transfer_encodings_other_than_chunked_refused():
    assert one(get(b"/", b"Transfer-Encoding: gzip, chunked\r\n"))[0] == 501
    assert one(get(b"/", b"Transfer-Encoding: chunked\r\n", version=b"HTTP/1.0"))[0] == 501
    st = one(get(b"/", b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n"))[0]
    assert st == 400


def test_chunked_request_body_is_consumed_and_the_next_request_served():
    req = get(b"/", b"Transfer-Encoding: chunked\r\n") + b"3;x=1\r\nabc\r\n0\r\nT: 1\r\n\r\n"
    flow = serve(server(), [req + get(b"/css/site.css")])
    r = parse_responses(flow.data())
    assert [x[0] for x in r] == [200, 200], r
    assert r[1][2] == b"body{color:red}\n"


def test_chunked_request_body_over_the_limit_is_413():
    req = get(b"/", b"Transfer-Encoding: chunked\r\n") + b"ffff\r\n" + b"a" * 65535
    assert one(req, max_body=1000)[0] == 413
    bad = get(b"/", b"Transfer-Encoding: chunked\r\n") + b"zz\r\n"
    assert one(bad)[0] == 400


def test_size_limits():
    assert one(get(b"/" + b"a" * 3000))[0] == 414
    assert one(get(b"/" + b"a" * 9000))[0] == 414
    many = b"".join(b"X-%d: y\r\n" % i for i in range(70))
    assert one(get(b"/", many))[0] == 431
    big = b"X-Big: " + b"z" * 9000 + b"\r\n"
    assert one(get(b"/", big))[0] == 431
    assert one(get(b"/", b"Content-Length: 100000000\r\n"))[0] == 413


def test_head_error_has_no_body():
    flow = serve(server(), [get(b"/missing", method=b"HEAD")])
    r = parse_responses(flow.data(), (0,))
    assert r[0][0] == 404 and int(r[0][1]["content-length"]) > 0
    assert flow.data().endswith(b"\r\n\r\n")


def test_store_failure_is_500():
    kv = PlainKV({"ok": (MT, b"x")}, fail=("bad",))
    flow = serve(http.Server(kv), [get(b"/bad")])
    assert parse_responses(flow.data())[0][0] == 500


def test_log_lines():
    lines = []
    flow = serve(server(log=lines.append), [get(b"/") + get(b"/x")])
    r = parse_responses(flow.data())
    assert lines == ['10.0.0.9:40000 "GET /" 200 18',
                     '10.0.0.9:40000 "GET /x" 404 %d' % len(r[1][2])]
    assert len(r[1][2]) > 0


def test_bad_limits_rejected():
    for kw in ({"chunk": 10}, {"max_head": 10}, {"max_headers": 0}):
        try:
            http.Server(kv_crunch.KV(FILES), **kw)
        except ValueError:
            continue
        raise AssertionError("accepted %r" % (kw,))


def test_many_clients_served_fairly():
    # A client downloading a big file (writes that never block) must not hold up small
    # requests arriving at the same time: they complete while the big one still streams.
    srv = server(chunk=1024)
    done = []
    big = FakeFlow([get(b"/img/big.bin")], peer=("1", 1))
    small = [FakeFlow([get(b"/css/site.css")], peer=("2", i)) for i in range(5)]

    async def run(flow, tag):
        await srv.handle(flow)
        done.append(tag)

    async def main():
        await sched.join([run(big, "big")] + [run(f, "small") for f in small])

    sched.run(main())
    assert done == ["small"] * 5 + ["big"], done
    assert parse_responses(big.data())[0][2] == BIG
    for f in small:
        assert parse_responses(f.data())[0][2] == b"body{color:red}\n"


def test_store_failure_mid_body_closes_without_more_requests():
    # headers already went out: the only honest signal left is closing early
    class Flaky(PlainKV):
        async def read(self, name, off=0, n=None):
            if off > 0:
                raise OSError("sector unreadable")
            return await PlainKV.read(self, name, off, n)

    kv = Flaky({"f.bin": (MT, BIG)})
    flow = serve(http.Server(kv, chunk=4096), [get(b"/f.bin") + get(b"/f.bin")])
    data = flow.data()
    assert data.startswith(b"HTTP/1.1 200 OK") and data.count(b"HTTP/1.1") == 1
    assert len(data) < len(BIG)


def test_log_source_formats_only_when_enabled():
    class Src:                   # the shape of a morgana.logs source
        def __init__(self, level):
            self.level = level
            self.lines = []

        def enabled(self, level):
            return level >= self.level

        def info(self, msg, *args):
            self.lines.append(msg % args if args else msg)

    quiet, chatty = Src(30), Src(20)
    serve(server(log=quiet), [get(b"/")])
    serve(server(log=chatty), [get(b"/")])
    assert quiet.lines == [] and chatty.lines == ['10.0.0.9:40000 "GET /" 200 18']
