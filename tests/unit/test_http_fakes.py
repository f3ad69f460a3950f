# Test doubles for the HTTP server: a scripted flow, a kv without memoryviews, and a
# response parser that frames responses by Content-Length (what a real client does).
from morgana import sched


class FakeFlow:
    """Feeds script items to read(): bytes are returned as one read each, a float sleeps
    that long first, None blocks forever (idle client). After the script: b'' (EOF)."""

    def __init__(self, script, peer=("10.0.0.9", 40000), write_delay=0):
        self.script = list(script)
        self.out = []
        self.closed = False
        self.peer = peer
        self.write_delay = write_delay
        self.reads = 0

    async def read(self):
        self.reads += 1
        while self.script:
            x = self.script.pop(0)
            if x is None:
                await sched.Promise()          # never resolved
            if isinstance(x, float):
                await sched.sleep(x)
                continue
            return x
        return b""

    async def write(self, b):
        if self.closed:
            raise OSError("write on a closed flow")
        if self.write_delay:
            await sched.sleep(self.write_delay)
        self.out.append(bytes(b))

    async def close(self):
        self.closed = True

    def data(self):
        return b"".join(self.out)


class PlainKV:
    """kv over a dict {name: (mtime, data)} with only the interface of docs/design.md
    (no view(), no content_type()): exercises the chunked kv.read path."""

    def __init__(self, files, fail=()):
        self.files = files
        self.fail = fail
        self.reads = []

    async def size(self, name):
        if name in self.fail:
            raise OSError("disk on fire")
        e = self.files.get(name)
        return None if e is None else len(e[1])

    async def read(self, name, off=0, n=None):
        self.reads.append((name, off, n))
        d = self.files[name][1]
        return d[off:] if n is None else d[off:off + n]

    def mtime(self, name):
        return self.files[name][0]

    def names(self):
        return sorted(self.files)


def parse_responses(data, head_requests=()):
    """Split a byte stream into [(status, {lower name: value str}, body bytes)].
    head_requests: indexes of responses that answer HEAD (no body)."""
    out = []
    i = 0
    while i < len(data):
        e = data.find(b"\r\n\r\n", i)
        assert e >= 0, "truncated response head: %r" % data[i:i + 200]
        lines = data[i:e].decode().split("\r\n")
        proto, code = lines[0].split(" ")[:2]
        assert proto == "HTTP/1.1", lines[0]
        hdrs = {}
        for ln in lines[1:]:
            k, v = ln.split(":", 1)
            assert k.lower() not in hdrs, "duplicate header " + k
            hdrs[k.lower()] = v.strip()
        i = e + 4
        status = int(code)
        n = 0
        if hdrs.get("transfer-encoding") == "chunked" and len(out) not in head_requests:
            body, i = _dechunk(data, i)
            out.append((status, hdrs, body))
            continue
        if len(out) not in head_requests and status not in (204, 304) and status >= 200:
            n = int(hdrs["content-length"])
        body = data[i:i + n]
        assert len(body) == n, "body shorter than Content-Length"
        i += n
        out.append((status, hdrs, body))
    return out


def _dechunk(data, i):
    # a chunked body at data[i:] -> (body, index after it); asserts on bad framing
    parts = []
    while True:
        e = data.find(b"\r\n", i)
        assert e > i, "missing chunk size line"
        size = int(data[i:e], 16)
        i = e + 2
        if size == 0:
            assert data[i:i + 2] == b"\r\n", "no blank line after the last chunk"
            return b"".join(parts), i + 2
        parts.append(data[i:i + size])
        assert len(parts[-1]) == size, "chunk shorter than its size"
        assert data[i + size:i + size + 2] == b"\r\n", "chunk not followed by CRLF"
        i += size + 2


def serve(srv, script, **kw):
    """Run one connection through srv; returns the FakeFlow."""
    flow = FakeFlow(script, **kw)

    async def main():
        await srv.handle(flow)

    sched.run(main())
    assert flow.closed, "server did not close the flow"
    return flow


# The parser above is what every server test trusts, so check it refuses bad framing.
def test_parse_responses_frames_by_content_length():
    data = (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    r = parse_responses(data)
    assert [(x[0], x[2]) for x in r] == [(200, b"abc"), (404, b"")]


def test_parse_responses_rejects_short_body():
    try:
        parse_responses(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc")
    except AssertionError:
        return
    raise AssertionError("short body accepted")
