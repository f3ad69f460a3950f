# Pure request parsing: heads, fields, paths, content types.
from morgana.http import parse as hp
from morgana.http import mimetypes


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


def test_mimetypes():
    assert mimetypes.guess("index.html") == "text/html; charset=utf-8"
    assert mimetypes.guess("a/B.PNG") == "image/png"
    assert mimetypes.guess("a.b/c") == mimetypes.DEFAULT
    assert mimetypes.guess(".htaccess") == mimetypes.DEFAULT
    assert mimetypes.guess("x.tar.gz") == "application/gzip"
    assert mimetypes.guess("noext") == mimetypes.DEFAULT
