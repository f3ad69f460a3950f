# Property tests for HTTP parsing and serving (CPython + hypothesis).
import os
import sys

from hypothesis import given, settings, strategies as st, HealthCheck

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "unit"))
from morgana.http import files as http
from morgana.http import parse as hp
from morgana.http import date as hd
from morgana.http import range as hr
from morgana.store import kv_crunch
from test_http_fakes import serve, parse_responses  # noqa: E402

MT = 1700000000
DATA = bytes(range(256)) * 8
FILES = {"index.html": (MT, "text/html; charset=utf-8", b"<p>hi</p>"),
         "d/f.bin": (MT, "application/octet-stream", DATA)}
STATUSES = {200, 206, 301, 304, 400, 404, 405, 408, 412, 413, 414, 416, 431, 501, 505}


@given(st.binary(max_size=400))
def test_parse_request_only_raises_http_error(head):
    try:
        r = hp.parse_request(head + b"\r\n\r\n")
    except hp.HttpError as e:
        assert e.status in (400, 414, 431, 505)
        return
    assert hp.is_token(r.method) and r.version in (10, 11)


@given(st.binary(max_size=200))
def test_target_path_is_confined(target):
    try:
        name, is_dir = hp.target_path(target)
    except hp.HttpError as e:
        assert e.status == 400
        return
    assert not name.startswith("/")
    segs = name.split("/") if name else []
    assert all(s not in ("", ".", "..") for s in segs), name
    assert "\x00" not in name and "\\" not in name


@given(st.integers(min_value=0, max_value=253402300799))
def test_http_date_round_trip(t):
    d = hd.http_date(t)
    assert len(d) == 29 and d.endswith(b" GMT")
    assert hd.parse_http_date(d) == t


@given(st.integers(min_value=0, max_value=5000),
       st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 6000)),
                          st.one_of(st.none(), st.integers(0, 6000))), min_size=1, max_size=5))
def test_parse_range_against_model(size, specs):
    text = b"bytes=" + b",".join(
        (b"" if a is None else b"%d" % a) + b"-" + (b"" if b is None else b"%d" % b)
        for a, b in specs)
    # model (RFC 9110 14.1.2)
    valid = all(not (a is None and b is None) and not (a is not None and b is not None
                                                        and b < a) for a, b in specs)
    want = []
    for a, b in specs:
        if not valid:
            break
        if a is None:
            if b > 0 and size > 0:
                want.append((max(0, size - b), size - 1))
        elif a < size:
            want.append((a, min(b if b is not None else size - 1, size - 1)))
    try:
        got = hr.parse_range(text, size)
    except hr.Unsatisfiable:
        assert valid and not want
        return
    if not valid:
        assert got is None
    else:
        assert got == want


_pieces = st.sampled_from([
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"HEAD /d/f.bin HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /d/f.bin HTTP/1.1\r\nHost: a\r\nRange: bytes=5-9\r\n\r\n",
    b"GET /d HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
    b"GET /d/f.bin HTTP/1.0\r\nConnection: keep-alive\r\nIf-None-Match: *\r\n\r\n",
])


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(_pieces, min_size=1, max_size=6), st.data())
def test_pipelined_output_independent_of_read_boundaries(reqs, data):
    stream = b"".join(reqs)
    srv = http.Server(kv_crunch.KV(FILES), clock=lambda: MT)
    whole = serve(srv, [stream]).data()
    cuts = sorted(set(data.draw(st.lists(st.integers(1, len(stream) - 1), max_size=8))))
    parts = [stream[a:b] for a, b in zip([0] + cuts, cuts + [len(stream)])]
    srv2 = http.Server(kv_crunch.KV(FILES), clock=lambda: MT)
    assert serve(srv2, parts).data() == whole
    heads = tuple(i for i, r in enumerate(reqs) if r.startswith(b"HEAD"))
    assert len(parse_responses(whole, heads)) == len(reqs)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=120), min_size=1, max_size=4))
def test_garbage_never_crashes_the_server(chunks):
    srv = http.Server(kv_crunch.KV(FILES), clock=lambda: MT, idle_timeout=0.01,
                      head_timeout=0.01)
    flow = serve(srv, chunks)
    out = flow.data()
    i = 0
    while i < len(out):               # every response is a well-formed, known status
        assert out[i:i + 9] == b"HTTP/1.1 ", out[i:i + 40]
        status = int(out[i + 9:i + 12])
        assert status in STATUSES
        e = out.index(b"\r\n\r\n", i)
        head = out[i:e].decode()
        n = 0
        for ln in head.split("\r\n")[1:]:
            k, v = ln.split(":", 1)
            if k == "Content-Length" and status != 304:
                n = int(v)
        i = e + 4 + n


@given(st.lists(st.sampled_from([b"\r", b"\n", b"a", b"\r\n", b"\n\n", b"\r\n\r\n"]),
                max_size=30), st.integers(0, 40))
def test_find_head_end_matches_model(parts, lo):
    buf = b"".join(parts)
    lo = min(lo, len(buf))
    want = -1
    for k in range(lo + 2, len(buf) + 1):       # the first point where a head ends
        if buf[lo:k].endswith(b"\n\n") or (k - lo >= 3 and buf[lo:k].endswith(b"\n\r\n")):
            want = k
            break
    assert hp.find_head_end(buf, lo, lo) == want
