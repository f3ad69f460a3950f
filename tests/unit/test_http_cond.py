# Conditional requests (ETag/If-None-Match, Last-Modified/If-Modified-Since) and Range.
from morgana.http import files as http
from morgana.store import kv_crunch
from test_http_fakes import serve, parse_responses, PlainKV

MT = 1700000000
LM = b"Tue, 14 Nov 2023 22:13:20 GMT"
DATA = bytes(range(256)) * 40                  # 10240 bytes
FILES = {"f.bin": (MT, "application/octet-stream", DATA)}
ETAG = b'"%x-%x"' % (MT, len(DATA))


def req(extra=b"", method=b"GET"):
    return method + b" /f.bin HTTP/1.1\r\nHost: t\r\n" + extra + b"\r\n"


def one(extra=b"", method=b"GET", kv=None, **kw):
    srv = http.Server(kv or kv_crunch.KV(FILES), clock=lambda: MT, **kw)
    flow = serve(srv, [req(extra, method)])
    r = parse_responses(flow.data(), (0,) if method == b"HEAD" else ())
    assert len(r) == 1
    return r[0]


def test_if_none_match_gives_304_with_validators():
    st, h, body = one(b"If-None-Match: " + ETAG + b"\r\n")
    assert st == 304 and body == b""
    assert h["etag"] == ETAG.decode() and h["last-modified"] == LM.decode()
    assert "content-length" not in h
    assert one(b"If-None-Match: W/" + ETAG + b"\r\n")[0] == 304
    assert one(b'If-None-Match: "zz", ' + ETAG + b"\r\n")[0] == 304
    assert one(b"If-None-Match: *\r\n")[0] == 304
    assert one(b"If-None-Match: " + ETAG + b"\r\n", b"HEAD")[0] == 304
    st, h, body = one(b'If-None-Match: "other"\r\n')
    assert st == 200 and body == DATA


def test_if_modified_since():
    assert one(b"If-Modified-Since: " + LM + b"\r\n")[0] == 304
    assert one(b"If-Modified-Since: Wed, 15 Nov 2023 00:00:00 GMT\r\n")[0] == 304
    assert one(b"If-Modified-Since: Tue, 14 Nov 2023 22:13:19 GMT\r\n")[0] == 200
    assert one(b"If-Modified-Since: garbage\r\n")[0] == 200
    # If-None-Match takes precedence: a non-matching tag wins over a fresh date
    st = one(b'If-None-Match: "x"\r\nIf-Modified-Since: ' + LM + b"\r\n")[0]
    assert st == 200


def test_304_keeps_the_connection():
    srv = http.Server(kv_crunch.KV(FILES), clock=lambda: MT)
    flow = serve(srv, [req(b"If-None-Match: " + ETAG + b"\r\n") + req()])
    r = parse_responses(flow.data())
    assert [x[0] for x in r] == [304, 200] and r[1][2] == DATA


def test_single_ranges():
    for spec, a, b in ((b"0-9", 0, 9), (b"10000-", 10000, 10239), (b"-16", 10224, 10239),
                       (b"5000-99999", 5000, 10239), (b"7-7", 7, 7)):
        st, h, body = one(b"Range: bytes=" + spec + b"\r\n")
        assert st == 206, spec
        assert h["content-range"] == "bytes %d-%d/10240" % (a, b)
        assert int(h["content-length"]) == b - a + 1
        assert body == DATA[a:b + 1]


def test_large_range_over_plain_kv_in_chunks():
    kv = PlainKV({"f.bin": (MT, DATA)})
    st, h, body = one(b"Range: bytes=100-9000\r\n", kv=kv, chunk=1024)
    assert st == 206 and body == DATA[100:9001]
    assert kv.reads[0] == ("f.bin", 100, 1024)


def test_unsatisfiable_range_416():
    st, h, body = one(b"Range: bytes=10240-\r\n")
    assert st == 416 and h["content-range"] == "bytes */10240"


def test_ignored_ranges_give_full_200():
    for v in (b"bytes=5-1", b"lines=1-2", b"bytes=x-"):
        st, h, body = one(b"Range: " + v + b"\r\n")
        assert st == 200 and body == DATA, v
    st, h, body = one(b"Range: bytes=0-9\r\n", b"HEAD")      # HEAD ignores Range
    assert st == 200 and h["content-length"] == "10240"


def test_if_range():
    assert one(b"Range: bytes=0-9\r\nIf-Range: " + ETAG + b"\r\n")[0] == 206
    assert one(b"Range: bytes=0-9\r\nIf-Range: " + LM + b"\r\n")[0] == 206
    assert one(b'Range: bytes=0-9\r\nIf-Range: "old"\r\n')[0] == 200
    assert one(b"Range: bytes=0-9\r\nIf-Range: W/" + ETAG + b"\r\n")[0] == 200
    st = one(b"Range: bytes=0-9\r\nIf-Range: Mon, 13 Nov 2023 00:00:00 GMT\r\n")[0]
    assert st == 200


def test_multiple_ranges_multipart():
    st, h, body = one(b"Range: bytes=0-3, 100-103, 2-5\r\n")
    assert st == 206
    ct = h["content-type"]
    assert ct.startswith("multipart/byteranges; boundary=")
    boundary = ct.split("=", 1)[1].encode()
    parts = body.split(b"\r\n--" + boundary)
    assert parts[0] == b"" and parts[-1] == b"--\r\n"
    got = []
    for p in parts[1:-1]:
        ph, data = p.split(b"\r\n\r\n", 1)
        assert b"Content-Type: application/octet-stream" in ph
        cr = [ln for ln in ph.split(b"\r\n") if ln.startswith(b"Content-Range:")][0]
        rng = cr.split(b" ")[2].split(b"/")[0].split(b"-")
        a, b = int(rng[0]), int(rng[1])
        assert data == DATA[a:b + 1]
        got.append((a, b))
    assert got == [(0, 5), (100, 103)]          # overlapping 0-3 and 2-5 coalesced


def test_if_match_and_if_unmodified_since_preconditions():
    assert one(b"If-Match: " + ETAG + b"\r\n")[0] == 200
    assert one(b'If-Match: "x", ' + ETAG + b"\r\n")[0] == 200
    assert one(b"If-Match: *\r\n")[0] == 200
    assert one(b'If-Match: "x"\r\n')[0] == 412
    assert one(b"If-Match: W/" + ETAG + b"\r\n")[0] == 412      # strong comparison
    assert one(b"If-Match: " + ETAG[1:] + b"\r\n")[0] == 412    # malformed
    assert one(b"If-Unmodified-Since: " + LM + b"\r\n")[0] == 200
    assert one(b"If-Unmodified-Since: Mon, 13 Nov 2023 00:00:00 GMT\r\n")[0] == 412
    assert one(b"If-Unmodified-Since: bogus\r\n")[0] == 200      # invalid date: ignored
    # If-Match wins over If-Unmodified-Since
    st = one(b"If-Match: " + ETAG + b"\r\nIf-Unmodified-Since: Mon, 13 Nov 2023 00:00:00 GMT"
             b"\r\n")[0]
    assert st == 200
    st, h, body = one(b'If-Match: "x"\r\n', b"HEAD")
    assert st == 412 and body == b""
