# HTTP/1.1 request parsing (RFC 9110/9112), pure functions over bytes: no I/O, no clock.
# Anything malformed raises HttpError carrying the status the server must answer with.
# Header names and values stay bytes: decoding every header would cost time on MicroPython
# and values may legally hold non-UTF-8 octets.


class HttpError(Exception):
    def __init__(self, status, why=""):
        super().__init__(status, why)
        self.status = status
        self.why = why


# Methods a server "knows" (RFC 9110 9.3 + PATCH): 405 for these, 501 for anything else.
KNOWN_METHODS = (b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"CONNECT", b"OPTIONS",
                 b"TRACE", b"PATCH")

# tchar (RFC 9110 5.6.2) as a 128-entry lookup string: 1 = allowed in a token.
_TCHAR = bytearray(128)
for _c in b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz":
    _TCHAR[_c] = 1


def is_token(b):
    if not b:
        return False
    t = _TCHAR
    for c in b:
        if c > 127 or not t[c]:
            return False
    return True


def _bad_value(v):
    # field-value: VCHAR / obs-text / SP / HTAB; controls (incl. bare CR, NUL) and DEL refused
    for c in v:
        if (c < 32 and c != 9) or c == 127:
            return True
    return False


def find_head_end(buf, start=0, lo=0):
    """Index just past the blank line ending the head that begins at lo, or -1. Lines may
    end in CRLF or a bare LF (RFC 9112 2.2 lets recipients accept LF). start: where a
    previous scan of the same head stopped (the search backs up 3 bytes, not below lo)."""
    start -= 3            # the terminator may straddle the previous scan's end
    if start < lo:
        start = lo
    i = buf.find(b"\n\r\n", start)
    if i < 0:
        j = buf.find(b"\n\n", start)
        return -1 if j < 0 else j + 2
    # a bare-LF end only counts before i; bounding the search keeps pipelined buffers
    # from being rescanned to their end for every request
    j = buf.find(b"\n\n", start, i + 1)
    return i + 3 if j < 0 else j + 2


def skip_leading_crlf(buf, i=0):
    """RFC 9112 2.2: ignore empty lines before a request line. Returns the index of the
    first byte from i on that is neither CR nor LF."""
    n = len(buf)
    while i < n and buf[i] in (10, 13):
        i += 1
    return i


class Request:
    def __init__(self, method, target, version, headers):
        self.method = method        # bytes, e.g. b"GET"
        self.target = target        # bytes, the request-target as sent
        self.version = version      # 10 or 11
        self.headers = headers      # dict: lower-case name bytes -> value bytes
        self.body = b""             # the request body, read by the server

    def header(self, name, default=None):
        return self.headers.get(name, default)


def parse_version(v):
    """b'HTTP/1.1' -> 11. Raises 400 when malformed, 505 for a major version other than 1."""
    if len(v) != 8 or v[:5] != b"HTTP/" or v[6] != 46:
        raise HttpError(400, "malformed HTTP version")
    major = v[5] - 48
    minor = v[7] - 48
    if not (0 <= major <= 9 and 0 <= minor <= 9):
        raise HttpError(400, "malformed HTTP version")
    if major != 1:
        raise HttpError(505, "HTTP major version %d not supported" % major)
    return 10 if minor == 0 else 11     # 1.x with x > 1 is answered as 1.1


def parse_request(head, max_uri=2048, max_headers=64):
    """Parse a complete request head (request line + fields, up to and including the
    blank line). Returns a Request; raises HttpError(400/414/431/505)."""
    lines = head.split(b"\n")
    # the head ends with an empty line, so the last two items are b"" / b"\r"-stripped
    n = len(lines)
    while n and (lines[n - 1] == b"" or lines[n - 1] == b"\r"):
        n -= 1
    if n == 0:
        raise HttpError(400, "empty request")
    line = lines[0]
    if line[-1:] == b"\r":
        line = line[:-1]
    parts = line.split(b" ")
    if len(parts) != 3:
        if len(parts) > 3 and len(line) > max_uri:
            raise HttpError(414, "request line too long")
        raise HttpError(400, "malformed request line")
    method, target, version = parts
    ver = parse_version(version)
    if not is_token(method):
        raise HttpError(400, "malformed method")
    if len(target) > max_uri:
        raise HttpError(414, "URI longer than %d bytes" % max_uri)
    if not target:
        raise HttpError(400, "empty request target")
    for c in target:
        if c <= 32 or c >= 127:
            raise HttpError(400, "invalid octet in request target")
    headers = {}
    count = 0
    for k in range(1, n):
        line = lines[k]
        if line[-1:] == b"\r":
            line = line[:-1]
        if not line:
            raise HttpError(400, "empty line inside the header section")
        if line[0] in (32, 9):
            raise HttpError(400, "obsolete line folding")
        count += 1
        if count > max_headers:
            raise HttpError(431, "more than %d header fields" % max_headers)
        i = line.find(b":")
        if i <= 0:
            raise HttpError(400, "header field without a name or colon")
        name = line[:i]
        if not is_token(name):
            raise HttpError(400, "invalid header field name")
        value = line[i + 1:].strip(b" \t")
        if _bad_value(value):
            raise HttpError(400, "control character in header field value")
        name = name.lower()
        old = headers.get(name)
        if old is None:
            headers[name] = value
        elif name == b"host":
            raise HttpError(400, "duplicate Host")
        elif name == b"content-length":
            if old != value:
                raise HttpError(400, "conflicting Content-Length")
        else:
            headers[name] = old + b", " + value     # RFC 9110 5.3: combine as a list
    if ver == 11 and b"host" not in headers:
        raise HttpError(400, "HTTP/1.1 request without Host")
    return Request(method, target, ver, headers)


def parse_content_length(v):
    """Content-Length value -> int; 400 unless it is a plain decimal number."""
    if not v or len(v) > 15 or not v.isdigit():
        raise HttpError(400, "invalid Content-Length")
    return int(v)


def parse_chunk_size(line):
    """The size of a chunk from its size line (RFC 9112 7.1: hex digits, optional
    ;extensions, CRLF or LF already stripped or not); 400 when malformed."""
    if line[-1:] == b"\r":
        line = line[:-1]
    semi = line.find(b";")
    if semi >= 0:
        line = line[:semi]
    line = line.strip(b" \t")
    if not line or len(line) > 15:
        raise HttpError(400, "invalid chunk size")
    n = 0
    for ch in line:
        v = _hexval(ch)
        if v < 0:
            raise HttpError(400, "invalid chunk size")
        n = n * 16 + v
    return n


def has_token(value, token):
    """Does a comma-separated list header (Connection, ...) contain token (lower-case)?"""
    if value is None:
        return False
    for item in value.split(b","):
        if item.strip(b" \t").lower() == token:
            return True
    return False


def _hexval(c):
    if 48 <= c <= 57:
        return c - 48
    c |= 32
    if 97 <= c <= 102:
        return c - 87
    return -1


def pct_decode(seg):
    """Percent-decode one path segment (bytes -> bytes); 400 on a bad escape."""
    if b"%" not in seg:
        return seg
    out = bytearray()
    i = 0
    n = len(seg)
    while i < n:
        c = seg[i]
        if c == 37:
            if i + 2 >= n:
                raise HttpError(400, "truncated percent escape")
            h = _hexval(seg[i + 1])
            l = _hexval(seg[i + 2])
            if h < 0 or l < 0:
                raise HttpError(400, "invalid percent escape")
            out.append(h * 16 + l)
            i += 3
        else:
            out.append(c)
            i += 1
    return bytes(out)


def parse_query(qs):
    """'a=1&b=x+y&c=%41' -> {'a': '1', 'b': 'x y', 'c': 'A'} (str in, str out; the last
    of repeated names wins; a name without '=' maps to ''). 400 on a bad escape or a
    value that is not UTF-8."""
    out = {}
    if not qs:
        return out
    for part in qs.split("&"):
        if not part:
            continue
        k, eq, v = part.partition("=")
        try:
            k = pct_decode(k.replace("+", " ").encode()).decode()
            v = pct_decode(v.replace("+", " ").encode()).decode()
        except UnicodeError:
            raise HttpError(400, "query is not UTF-8")
        out[k] = v
    return out


def target_path(target):
    """Request-target -> (name, is_dir): name is the decoded path relative to the site
    root with dot segments resolved (never above the root), e.g. b'/a/./b/../c.css?x'
    -> ('a/c.css', False); b'/docs/' -> ('docs', True). 400 when not a usable path."""
    if target[:1] != b"/":
        low = target[:8].lower()
        if low[:7] == b"http://" or low[:8] == b"https://":
            rest = target[target.find(b"//") + 2:]
            e = len(rest)
            for sep in (b"/", b"?", b"#"):
                k = rest.find(sep)
                if 0 <= k < e:
                    e = k
            if e == 0:
                raise HttpError(400, "absolute URI without a host")
            target = b"/" + rest[e:] if rest[e:e + 1] != b"/" else rest[e:]
        else:
            raise HttpError(400, "request target is not a path")
    q = target.find(b"?")
    if q >= 0:
        target = target[:q]
    h = target.find(b"#")
    if h >= 0:
        target = target[:h]
    segs = target.split(b"/")
    out = []
    is_dir = False
    for raw in segs[1:]:
        seg = pct_decode(raw)
        if b"/" in seg or b"\x00" in seg or b"\\" in seg:
            raise HttpError(400, "encoded slash or NUL in path")
        is_dir = False
        if seg == b"" or seg == b".":
            is_dir = True
            continue
        if seg == b"..":
            if out:
                out.pop()
            is_dir = True
            continue
        out.append(seg)
    if not out:
        is_dir = True
    try:
        name = b"/".join(out).decode()
    except UnicodeError:
        raise HttpError(400, "path is not UTF-8")
    return name, is_dir
