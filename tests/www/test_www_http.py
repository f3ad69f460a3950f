# Protocol behaviour against the running servers: Range, conditional requests, bad
# requests, pipelining, many concurrent clients, slow clients.
import socket
import subprocess
import threading
import time


def curl(*args):
    r = subprocess.run(["curl", "-sS", "--max-time", "30"] + list(args),
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def status_headers(server, path, *extra):
    out = curl("-o", "/dev/null", "-D", "-", *extra, server.url + path).decode()
    lines = out.split("\r\n")
    hdrs = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            hdrs[k.lower()] = v.strip()
    return int(lines[0].split()[1]), hdrs


def raw(server, data, timeout=10.0):
    """Send data, read until the server closes; the raw response bytes."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout)
    s.sendall(data)
    out = b""
    while True:
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        if not b:
            break
        out += b
    s.close()
    return out


def test_ranges(server, files):
    big = files["big.bin"]
    assert curl("-r", "0-99", server.url + "big.bin") == big[:100]
    assert curl("-r", "1000000-", server.url + "big.bin") == big[1000000:]
    assert curl("-r", "-500", server.url + "big.bin") == big[-500:]
    st, h = status_headers(server, "big.bin", "-r", "10-19")
    assert st == 206 and h["content-range"] == "bytes 10-19/%d" % len(big)
    st, h = status_headers(server, "big.bin", "-r", "%d-" % (len(big) + 10))
    assert st == 416 and h["content-range"] == "bytes */%d" % len(big)
    body = curl("-r", "0-9,100-109", server.url + "big.bin")
    assert big[:10] in body and big[100:110] in body and b"--morgana-" in body


def test_conditional_requests(server, files):
    st, h = status_headers(server, "css/site.css")
    assert st == 200
    etag, lm = h["etag"], h["last-modified"]
    assert status_headers(server, "css/site.css", "-H", "If-None-Match: " + etag)[0] == 304
    assert status_headers(server, "css/site.css", "-H", 'If-None-Match: "x"')[0] == 200
    assert status_headers(server, "css/site.css", "-H", "If-Modified-Since: " + lm)[0] == 304
    assert status_headers(server, "css/site.css", "-H",
                          "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT")[0] == 200
    st, h = status_headers(server, "big.bin", "-r", "0-9", "-H", "If-Range: " + etag)
    assert st == 200                                  # someone else's validator


def test_bad_requests(server):
    cases = [
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 405),
        (b"FROB / HTTP/1.1\r\nHost: x\r\n\r\n", 501),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 100 + b"\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n", 413),
        (b"\x00\x01\x02 garbage\r\n\r\n", 400),
        (b"GET /nope.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404),
    ]
    for req, want in cases:
        resp = raw(server, req)
        assert resp.startswith(b"HTTP/1.1 %d " % want), (req[:40], resp[:80])


def test_pipelining(server, files):
    reqs = b"".join(b"GET /%s HTTP/1.1\r\nHost: x\r\n\r\n" % p
                    for p in (b"css/site.css", b"docs/notes.txt", b"index.html"))
    resp = raw(server, reqs + b"GET /empty.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert resp.count(b"HTTP/1.1 200 OK") == 4
    i = resp.find(files["css/site.css"])
    j = resp.find(files["docs/notes.txt"])
    k = resp.find(files["index.html"])
    assert 0 < i < j < k, (i, j, k)


def test_many_clients_at_once(server, files):
    # 20 clients fetch concurrently; all get exact bytes, none starves
    results = {}

    def fetch(i):
        path = "big.bin" if i % 4 == 0 else "index.html"
        t0 = time.time()
        r = subprocess.run(["curl", "-sS", "--max-time", "60", server.url + path],
                           capture_output=True)
        results[i] = (path, r.stdout, time.time() - t0)

    ts = [threading.Thread(target=fetch, args=(i,)) for i in range(20)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(results) == 20
    for path, body, took in results.values():
        assert body == files[path], path


def test_slow_head_gets_408(server):
    s = socket.create_connection(("127.0.0.1", server.port), 10)
    s.sendall(b"GET / HTTP/1.1\r\nHo")
    t0 = time.time()
    out = s.recv(4096)
    took = time.time() - t0
    s.close()
    assert out.startswith(b"HTTP/1.1 408 "), out[:60]
    assert 1.5 < took < 10.0, took      # serve_site.py: head_timeout=2s


def test_idle_and_slow_crowd_does_not_block_others(server, files):
    # 40 connections that send half a head and stall, 10 that send nothing: a normal
    # client is still served at once, and the stallers are cut off by the timeouts.
    socks = []
    for i in range(50):
        s = socket.create_connection(("127.0.0.1", server.port), 10)
        if i < 40:
            s.sendall(b"GET /index.html HTTP/1.1\r\nHo")
        socks.append(s)
    assert curl(server.url + "css/site.css") == files["css/site.css"]
    # served before any staller timed out (head timeout 2 s): none has an answer yet
    for s in socks:
        s.setblocking(False)
        try:
            early = s.recv(4096)
        except BlockingIOError:
            early = None
        assert early is None, "a staller was answered before the normal client"
        s.setblocking(True)
        s.settimeout(10)
    for s in socks[:40]:
        assert s.recv(4096).startswith(b"HTTP/1.1 408 ")
    for s in socks[40:]:
        assert s.recv(4096) == b""          # idle: closed without a response
    for s in socks:
        s.close()
