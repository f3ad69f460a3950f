# Pure request parsing: heads, paths, dates, validators, ranges, content types.
from morgana import http_parse as hp
from morgana import mimetypes


def _status(fn, *args):
    try:
        fn(*args)
    except hp.HttpError as e:
        return e.status
    raise AssertionError("no HttpError for %r" % (args,))


def test_find_head_end_crlf_lf_and_resume():
    assert hp.find_head_end(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nNEXT") == 27
    assert hp.find_head_end(b"GET / HTTP/1.1\nHost: a\n\nNEXT") == 24
    assert hp.find_head_end(b"GET / HTTP/1.1\r\nHost: a\r\n") == -1
    buf = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    # the scan may resume from where the previous (shorter) buffer ended
    assert hp.find_head_end(buf, 25) == 27
    assert hp.skip_leading_crlf(b"\r\n\nGET") == 3
    assert hp.skip_leading_crlf(b"X\r\nGET", 1) == 3
    two = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n"
    assert hp.find_head_end(two, 27, 27) == -1      # never the previous head's end


def test_parse_request_fields():
    r = hp.parse_request(b"GET /x?y HTTP/1.1\r\nHost: h\r\nAccept:  a/b \r\n"
                         b"X-A: 1\r\nx-a: 2\r\n\r\n")
    assert r.method == b"GET" and r.target == b"/x?y" and r.version == 11
    assert r.headers[b"host"] == b"h"
    assert r.headers[b"accept"] == b"a/b"
    assert r.headers[b"x-a"] == b"1, 2"
    assert r.header(b"nope", 5) == 5
    r = hp.parse_request(b"HEAD / HTTP/1.0\r\n\r\n")
    assert r.version == 10 and r.headers == {}


def test_parse_request_statuses():
    ok = b"GET / HTTP/1.1\r\nHost: h\r\n"
    assert _status(hp.parse_request, b"\r\n\r\n") == 400
    assert _status(hp.parse_request, b"GET / HTTP/3.0\r\n\r\n") == 505
    assert _status(hp.parse_request, b"GET / HTTP/1\r\n\r\n") == 400
    assert _status(hp.parse_request, b"GET / http/1.1\r\n\r\n") == 400
    assert _status(hp.parse_request, b"GET /" + b"a" * 100 + b" HTTP/1.1\r\n\r\n", 50) == 414
    assert _status(hp.parse_request, b"GET /a b HTTP/1.1\r\n\r\n") == 400
    assert _status(hp.parse_request, ok + b"A: 1\r\nB: 2\r\n\r\n", 2048, 2) == 431
    assert _status(hp.parse_request, ok + b"Bad Name: 1\r\n\r\n") == 400
    assert _status(hp.parse_request, ok + b": novalue\r\n\r\n") == 400
    assert _status(hp.parse_request, ok + b"NoColon\r\n\r\n") == 400
    assert _status(hp.parse_request, ok + b"A: x\ry\r\n\r\n") == 400
    assert _status(hp.parse_request, ok + b"A: \x7f\r\n\r\n") == 400
    assert _status(hp.parse_request, ok + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n") == 400
    r = hp.parse_request(ok + b"Content-Length: 1\r\nContent-Length: 1\r\n\r\n")
    assert r.headers[b"content-length"] == b"1"
    r = hp.parse_request(ok + b"A: caf\xc3\xa9\t\r\n\r\n")      # obs-text and HTAB allowed
    assert r.headers[b"a"] == b"caf\xc3\xa9"


def test_content_length_and_tokens():
    assert hp.parse_content_length(b"0") == 0 and hp.parse_content_length(b"123") == 123
    for bad in (b"", b"-1", b"+1", b"1_0", b" 1", b"0x10", b"9" * 16):
        assert _status(hp.parse_content_length, bad) == 400, bad
    assert hp.has_token(b"Keep-Alive, Upgrade", b"keep-alive")
    assert hp.has_token(b"foo ,  CLOSE", b"close")
    assert not hp.has_token(b"closed", b"close")
    assert not hp.has_token(None, b"close")


def test_target_path():
    assert hp.target_path(b"/") == ("", True)
    assert hp.target_path(b"/a/b.css?v=1#f") == ("a/b.css", False)
    assert hp.target_path(b"/a/") == ("a", True)
    assert hp.target_path(b"//a//b") == ("a/b", False)
    assert hp.target_path(b"/a/./b/../c") == ("a/c", False)
    assert hp.target_path(b"/a/b/..") == ("a", True)
    assert hp.target_path(b"/../../x") == ("x", False)
    assert hp.target_path(b"/%2e%2e/%2E%2e/x") == ("x", False)
    assert hp.target_path(b"/caf%C3%A9%20au%20lait") == ("caf\u00e9 au lait", False)
    assert hp.target_path(b"http://host:80/p?q") == ("p", False)
    assert hp.target_path(b"HTTPS://host") == ("", True)
    assert hp.target_path(b"http://h?x") == ("", True)
    for bad in (b"*", b"x/y", b"http:///p", b"/a%2fb", b"/a%00", b"/a%5cb", b"/%",
                b"/%4", b"/%g0", b"/%ff%fe"):
        assert _status(hp.target_path, bad) == 400, bad


def test_http_date_known_values():
    assert hp.http_date(0) == b"Thu, 01 Jan 1970 00:00:00 GMT"
    assert hp.http_date(784111777) == b"Sun, 06 Nov 1994 08:49:37 GMT"
    assert hp.http_date(951782400) == b"Tue, 29 Feb 2000 00:00:00 GMT"
    assert hp.http_date(4102444799) == b"Thu, 31 Dec 2099 23:59:59 GMT"
    assert hp.http_date(4107542399) == b"Sun, 28 Feb 2100 23:59:59 GMT"   # 2100: no leap


def test_civil_days_round_trip():
    for days in (-719468, -1, 0, 1, 59, 60, 365, 10957, 11016, 19000, 2932896):
        y, m, d = hp.civil_from_days(days)
        assert hp.days_from_civil(y, m, d) == days, days


def test_parse_http_date_three_formats():
    t = 784111777
    assert hp.parse_http_date(b"Sun, 06 Nov 1994 08:49:37 GMT") == t
    assert hp.parse_http_date(b"Sunday, 06-Nov-94 08:49:37 GMT") == t
    assert hp.parse_http_date(b"Sun Nov  6 08:49:37 1994") == t
    assert hp.parse_http_date(b" Sun, 06 Nov 1994 08:49:37 GMT ") == t
    for bad in (b"", b"yesterday", b"Sun, 06 Nov 1994 08:49:37 UTC",
                b"Sun, 31 Feb 1994 08:49:37 GMT", b"Sun, 06 Foo 1994 08:49:37 GMT",
                b"Sun, 06 Nov 1994 24:00:00 GMT", b"Sun, 6 Nov 1994 08:49:37 GMT",
                b"Sun, 06 Nov 94 08:49:37 GMT", b"Sun, 06 Nov 1994 08:49 GMT",
                b"Xyz, 06 Nov 1994 08:49:37 GMT", b"Sun, 06 Nov 1994 08:4a:37 GMT"):
        assert hp.parse_http_date(bad) is None, bad


def test_etags_and_none_match():
    e = b'"5-a"'
    assert hp.none_match(b'"5-a"', e)
    assert hp.none_match(b'W/"5-a"', e)                # weak comparison
    assert hp.none_match(b'"x", "5-a"', e)
    assert hp.none_match(b"*", e)
    assert not hp.none_match(b'"5-b"', e)
    assert not hp.none_match(b'5-a', e)                # unquoted: malformed, ignored
    assert not hp.none_match(b'"5-a', e)
    assert hp.etags(b'"a,b", W/"c"') == [(False, b'"a,b"'), (True, b'"c"')]
    assert hp.etags(b'"a"x') is None


def test_parse_range():
    assert hp.parse_range(b"bytes=0-9", 100) == [(0, 9)]
    assert hp.parse_range(b"bytes=90-", 100) == [(90, 99)]
    assert hp.parse_range(b"bytes=90-200", 100) == [(90, 99)]
    assert hp.parse_range(b"bytes=-10", 100) == [(90, 99)]
    assert hp.parse_range(b"bytes=-1000", 100) == [(0, 99)]
    assert hp.parse_range(b"Bytes = 1-2, ,4-5", 100) == [(1, 2), (4, 5)]
    assert hp.parse_range(b"bytes=100-,5-6", 100) == [(5, 6)]
    for ignored in (b"items=0-1", b"bytes=5-1", b"bytes=a-b", b"bytes=1", b"bytes=",
                    b"bytes=,", b"bytes=--1", b"bytes=0-1" + b",0-1" * 20):
        assert hp.parse_range(ignored, 100) is None, ignored
    for unsat in (b"bytes=100-", b"bytes=-0", b"bytes=200-300", b"bytes=0-"):
        try:
            hp.parse_range(unsat, 100 if unsat != b"bytes=0-" else 0)
        except hp.Unsatisfiable:
            continue
        raise AssertionError("satisfiable? %r" % unsat)
    assert hp.coalesce([(50, 60), (0, 9), (10, 20), (55, 70)]) == [(0, 20), (50, 70)]


def test_mimetypes():
    assert mimetypes.guess("index.html") == "text/html; charset=utf-8"
    assert mimetypes.guess("a/B.PNG") == "image/png"
    assert mimetypes.guess("a.b/c") == mimetypes.DEFAULT
    assert mimetypes.guess(".htaccess") == mimetypes.DEFAULT
    assert mimetypes.guess("x.tar.gz") == "application/gzip"
    assert mimetypes.guess("noext") == mimetypes.DEFAULT
