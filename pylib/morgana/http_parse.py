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


# ---- dates: IMF-fixdate, without time.strftime (absent on MicroPython) ----

_DAYS = (b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed")   # 1970-01-01 = Thursday
_MONTHS = (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep",
           b"Oct", b"Nov", b"Dec")
_LONGDAYS = (b"Monday", b"Tuesday", b"Wednesday", b"Thursday", b"Friday", b"Saturday",
             b"Sunday")


def civil_from_days(z):
    """Days since 1970-01-01 -> (year, month, day), proleptic Gregorian."""
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return y, m, d


def days_from_civil(y, m, d):
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    mp = m - 3 if m > 2 else m + 9
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def http_date(t):
    """Seconds since the epoch -> b'Sun, 06 Nov 1994 08:49:37 GMT'."""
    t = int(t)
    days = t // 86400
    secs = t - days * 86400
    y, m, d = civil_from_days(days)
    return b"%s, %02d %s %04d %02d:%02d:%02d GMT" % (
        _DAYS[days % 7], d, _MONTHS[m - 1], y, secs // 3600, secs // 60 % 60, secs % 60)


def _num(b, lo, hi):
    if not b or not b.isdigit():
        return None
    v = int(b)
    return v if lo <= v <= hi else None


def _hms(b):
    p = b.split(b":")
    if len(p) != 3 or len(b) != 8:
        return None
    h = _num(p[0], 0, 23)
    mi = _num(p[1], 0, 59)
    s = _num(p[2], 0, 60)
    if h is None or mi is None or s is None:
        return None
    return h * 3600 + mi * 60 + s


def _epoch(y, mon, d, hms):
    if y is None or d is None or hms is None or mon not in _MONTHS:
        return None
    m = _MONTHS.index(mon) + 1
    mdays = (31, 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28, 31, 30,
             31, 30, 31, 31, 30, 31, 30, 31)[m - 1]
    if d > mdays:
        return None
    return days_from_civil(y, m, d) * 86400 + hms


def parse_http_date(b):
    """IMF-fixdate, RFC 850 or asctime (RFC 9110 5.6.7) -> epoch seconds, or None."""
    b = b.strip(b" \t")
    p = b.split(b" ")
    if len(p) == 6 and p[5] == b"GMT" and p[0][-1:] == b",":            # IMF-fixdate
        if p[0][:-1] not in _DAYS or len(p[1]) != 2:
            return None
        return _epoch(_num(p[3], 1, 9999) if len(p[3]) == 4 else None, p[2],
                      _num(p[1], 1, 31), _hms(p[4]))
    if len(p) == 4 and p[3] == b"GMT" and p[0][-1:] == b",":            # RFC 850
        if p[0][:-1] not in _LONGDAYS:
            return None
        dmy = p[1].split(b"-")
        if len(dmy) != 3 or len(dmy[0]) != 2 or len(dmy[2]) != 2:
            return None
        yy = _num(dmy[2], 0, 99)
        if yy is None:
            return None
        y = 1900 + yy if yy >= 70 else 2000 + yy   # RFC 9110: 50-year window, simplified
        return _epoch(y, dmy[1], _num(dmy[0], 1, 31), _hms(p[2]))
    if len(p) >= 5 and p[0] in _DAYS:                                    # asctime
        p = [x for x in p if x]
        if len(p) != 5 or len(p[4]) != 4:
            return None
        return _epoch(_num(p[4], 1, 9999), p[1], _num(p[2], 1, 31), _hms(p[3]))
    return None


# ---- validators and ranges ----

def etags(value):
    """If-None-Match / If-Match list -> ('*',) or list of (weak, opaque-tag bytes incl.
    quotes); None when malformed (the caller then ignores the field)."""
    v = value.strip(b" \t")
    if v == b"*":
        return ("*",)
    out = []
    i = 0
    n = len(v)
    while i < n:
        c = v[i]
        if c in (32, 9, 44):
            i += 1
            continue
        weak = False
        if v[i:i + 2] == b"W/":
            weak = True
            i += 2
        if i >= n or v[i] != 34:
            return None
        j = v.find(b'"', i + 1)
        if j < 0:
            return None
        out.append((weak, v[i:j + 1]))
        i = j + 1
        if i < n and v[i] not in (32, 9, 44):
            return None
    return out


def none_match(value, etag):
    """If-None-Match evaluation (weak comparison): True when the condition is false,
    i.e. the server answers 304 for GET/HEAD."""
    tags = etags(value)
    if tags is None:
        return False
    if tags == ("*",):
        return True
    for weak, tag in tags:
        if tag == etag:
            return True
    return False


class Unsatisfiable(Exception):
    pass


def _pos(b):
    b = b.strip(b" \t")
    if not b or len(b) > 18 or not b.isdigit():
        return None
    return int(b)


def parse_range(value, size, max_ranges=16):
    """Range field -> list of (start, end_inclusive) clipped to size; None to ignore the
    field (not bytes, malformed, too many ranges); raises Unsatisfiable when well formed
    but no range overlaps the representation (416)."""
    v = value.strip(b" \t")
    eq = v.find(b"=")
    if eq < 0 or v[:eq].strip(b" \t").lower() != b"bytes":
        return None
    specs = v[eq + 1:].split(b",")
    if len(specs) > max_ranges:
        return None
    out = []
    seen = 0
    for spec in specs:
        spec = spec.strip(b" \t")
        if not spec:
            continue          # empty list elements are allowed
        seen += 1
        d = spec.find(b"-")
        if d < 0:
            return None
        if d == 0:
            n = _pos(spec[1:])
            if n is None:
                return None
            if n == 0 or size == 0:
                continue                     # suffix of zero bytes: unsatisfiable
            out.append((max(0, size - n), size - 1))
            continue
        a = _pos(spec[:d])
        if a is None:
            return None
        rest = spec[d + 1:].strip(b" \t")
        if rest:
            b = _pos(rest)
            if b is None or b < a:
                return None
        else:
            b = size - 1
        if a >= size:
            continue
        out.append((a, b if b < size else size - 1))
    if not seen:
        return None
    if not out:
        raise Unsatisfiable()
    return out


def coalesce(ranges):
    """Merge overlapping or adjacent ranges (RFC 9110 14.2: a server may coalesce)."""
    rs = sorted(ranges)
    out = [list(rs[0])]
    for a, b in rs[1:]:
        last = out[-1]
        if a <= last[1] + 1:
            if b > last[1]:
                last[1] = b
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]
