# RFC 1035 section 5 master files -> Zone. Supports $ORIGIN, $TTL, @, omitted owner/TTL/class,
# parentheses, comments, quoted strings; types SOA NS A AAAA CNAME MX TXT SRV PTR and RFC 3597
# generic TYPEnnn \# rdata. Every error is a ZoneError naming file:line and the field.
import struct
from morgana.dns import wire
from morgana.dns.zonedata import Zone  # noqa: F401 (re-exported)


class ZoneError(ValueError):
    def __init__(self, filename, line, field, msg):
        super().__init__("%s:%d: %s: %s" % (filename, line, field, msg))
        self.filename = filename
        self.line = line
        self.field = field


class FieldError(ValueError):
    """Raised by the rdata parsers; the caller adds file and line."""

    def __init__(self, field, msg):
        super().__init__(msg)
        self.field = field


# ---------- tokenizer: one entry (logical line) at a time ----------

def _entries(text, filename):
    """Yield (line, starts_blank, tokens); a token is (text, quoted). Escapes stay raw.
    Plain lines (no quote, parenthesis, comment or escape) take the fast str.split path."""
    depth = 0
    toks = []
    start = 0
    blank = False
    line = 0
    for raw in text.split("\n"):
        line += 1
        if depth == 0:
            start = line
            blank = raw[:1] in (" ", "\t")
        if '"' in raw or ";" in raw or "(" in raw or ")" in raw or "\\" in raw:
            depth = _scan(raw, toks, depth, filename, line)
        else:
            for t in raw.split():
                toks.append((t, False))
        if depth == 0 and toks:
            yield start, blank, toks
            toks = []
    if depth:
        raise ZoneError(filename, start, "syntax", "'(' not closed before end of file")


def _scan(raw, toks, depth, filename, line):
    """Tokenize one physical line with quotes, parentheses, comments; -> new depth."""
    n = len(raw)
    i = 0
    while i < n:
        ch = raw[i]
        if ch in " \t\r":
            i += 1
        elif ch == ";":
            break
        elif ch == "(":
            depth += 1
            i += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ZoneError(filename, line, "syntax", "')' without '('")
            i += 1
        elif ch == '"':
            j = i + 1
            while j < n and raw[j] != '"':
                if raw[j] == "\\":
                    j += 1
                j += 1
            if j >= n:
                raise ZoneError(filename, line, "syntax", "unterminated quoted string")
            toks.append((raw[i + 1:j], True))
            i = j + 1
        else:
            j = i
            while j < n and raw[j] not in ' \t\r;()"':
                if raw[j] == "\\":
                    j += 1
                j += 1
            toks.append((raw[i:j], False))
            i = j
    return depth


# ---------- field parsers (raise FieldError) ----------

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_ttl(s, field="ttl"):
    """Seconds, or BIND-style units (1h30m). 0 .. 2^31-1 (RFC 2181 8)."""
    if not s:
        raise FieldError(field, "empty")
    if s.isdigit():
        v = int(s)
    else:
        v = 0
        num = ""
        for ch in s.lower():
            if ch.isdigit():
                num += ch
            elif ch in _UNITS and num:
                v += int(num) * _UNITS[ch]
                num = ""
            else:
                raise FieldError(field, "bad time value %r" % s)
        if num:
            v += int(num)
    if v > 0x7FFFFFFF:
        raise FieldError(field, "%r exceeds 2^31-1" % s)
    return v


def parse_u(s, bits, field):
    if not s.isdigit():
        raise FieldError(field, "not a number: %r" % s)
    v = int(s)
    if v >= 1 << bits:
        raise FieldError(field, "%r does not fit in %d bits" % (s, bits))
    return v


def parse_ipv4(s, field="address"):
    parts = s.split(".")
    if len(parts) != 4:
        raise FieldError(field, "bad IPv4 address %r" % s)
    out = bytearray()
    for p in parts:
        if not p.isdigit() or len(p) > 3 or int(p) > 255:
            raise FieldError(field, "bad IPv4 address %r" % s)
        out.append(int(p))
    return bytes(out)


_HEX = "0123456789abcdefABCDEF"


def _hex_groups(parts, s, field):
    out = bytearray()
    for g in parts:
        if not 1 <= len(g) <= 4:
            raise FieldError(field, "bad IPv6 address %r" % s)
        for ch in g:
            if ch not in _HEX:
                raise FieldError(field, "bad IPv6 address %r" % s)
        v = int(g, 16)
        out.append(v >> 8)
        out.append(v & 255)
    return out


def parse_ipv6(s, field="address"):
    tail4 = b""
    s2 = s
    if "." in s:  # dotted IPv4 in the last 32 bits (::ffff:192.0.2.1)
        k = s.rfind(":")
        if k < 0:
            raise FieldError(field, "bad IPv6 address %r" % s)
        tail4 = parse_ipv4(s[k + 1:], field)
        s2 = s[:k + 1] if s[:k + 1].endswith("::") else s[:k]
    want = 16 - len(tail4)
    if s2.count("::") > 1:
        raise FieldError(field, "bad IPv6 address %r" % s)
    if "::" in s2:
        head, tail = s2.split("::")
        h = _hex_groups(head.split(":") if head else [], s, field)
        t = _hex_groups(tail.split(":") if tail else [], s, field)
        if len(h) + len(t) >= want:
            raise FieldError(field, "bad IPv6 address %r" % s)
        b = bytes(h) + bytes(want - len(h) - len(t)) + bytes(t)
    else:
        b = bytes(_hex_groups(s2.split(":"), s, field))
        if len(b) != want:
            raise FieldError(field, "bad IPv6 address %r" % s)
    return b + tail4


def parse_charstring(tok, field="text"):
    """One <character-string>: decode \\X and \\DDD escapes; at most 255 bytes."""
    s = tok[0]
    out = bytearray()
    i = 0
    n = len(s)
    while i < n:
        ch = s[i]
        if ch == "\\":
            if i + 1 >= n:
                raise FieldError(field, "dangling backslash")
            if s[i + 1].isdigit():
                d = s[i + 1:i + 4]
                if len(d) != 3 or not d.isdigit() or int(d) > 255:
                    raise FieldError(field, "bad \\DDD escape")
                out.append(int(d))
                i += 4
                continue
            out += s[i + 1].encode()
            i += 2
            continue
        out += ch.encode()
        i += 1
    if len(out) > 255:
        raise FieldError(field, "string longer than 255 bytes (split it into several)")
    return bytes([len(out)]) + bytes(out)


def _name(tok, origin, field):
    try:
        return wire.name_from_text(tok[0], origin)
    except ValueError as e:
        raise FieldError(field, str(e))


def _need(toks, k, names):
    if len(toks) != k:
        raise FieldError("rdata", "expected %d fields (%s), got %d" % (k, " ".join(names), len(toks)))


def rdata_from_text(rtype, toks, origin):
    if toks and toks[0][0] == "\\#" and not toks[0][1]:  # RFC 3597 generic form
        if len(toks) < 2:
            raise FieldError("rdata", "\\# needs a length")
        ln = parse_u(toks[1][0], 16, "rdlength")
        hx = "".join(t[0] for t in toks[2:])
        try:
            raw = bytes.fromhex(hx)
        except ValueError:
            raise FieldError("rdata", "bad hex in \\# rdata")
        if len(raw) != ln:
            raise FieldError("rdlength", "%d given, %d bytes of hex" % (ln, len(raw)))
        try:
            return wire.read_rdata(raw, 0, ln, rtype)
        except wire.WireError as e:
            raise FieldError("rdata", str(e))
    if rtype == wire.A:
        _need(toks, 1, ["address"])
        return parse_ipv4(toks[0][0])
    if rtype == wire.AAAA:
        _need(toks, 1, ["address"])
        return parse_ipv6(toks[0][0])
    if rtype in (wire.NS, wire.CNAME, wire.PTR):
        _need(toks, 1, ["target"])
        return _name(toks[0], origin, "target")
    if rtype == wire.MX:
        _need(toks, 2, ["preference", "exchange"])
        return struct.pack(">H", parse_u(toks[0][0], 16, "preference")) + \
            _name(toks[1], origin, "exchange")
    if rtype == wire.SRV:
        _need(toks, 4, ["priority", "weight", "port", "target"])
        return struct.pack(">HHH", parse_u(toks[0][0], 16, "priority"),
                           parse_u(toks[1][0], 16, "weight"),
                           parse_u(toks[2][0], 16, "port")) + _name(toks[3], origin, "target")
    if rtype == wire.TXT:
        if not toks:
            raise FieldError("rdata", "TXT needs at least one string")
        return b"".join(parse_charstring(t) for t in toks)
    if rtype == wire.SOA:
        names = ["mname", "rname", "serial", "refresh", "retry", "expire", "minimum"]
        _need(toks, 7, names)
        m = _name(toks[0], origin, "mname")
        r = _name(toks[1], origin, "rname")
        serial = parse_u(toks[2][0], 32, "serial")
        nums = [parse_ttl(toks[k][0], names[k]) for k in range(3, 7)]
        return m + r + struct.pack(">IIIII", serial, nums[0], nums[1], nums[2], nums[3])
    raise FieldError("type", "no text form for type %d: use \\# generic rdata" % rtype)


def parse_type(s):
    u = s.upper()
    t = wire.TYPE_CODES.get(u)
    if t is not None and t not in (wire.OPT, wire.ANY, wire.AXFR, wire.IXFR):
        return t
    if u.startswith("TYPE") and u[4:].isdigit() and 0 < int(u[4:]) < 65536:
        return int(u[4:])
    raise FieldError("type", "unknown record type %r" % s)


_CLASSES = ("IN", "CH", "HS", "CS")


def parse_zone(text, origin=None, filename="<zone>"):
    """-> Zone. origin: wire name or text ('example.com.'); $ORIGIN may set it instead."""
    if isinstance(origin, str):
        origin = wire.name_from_text(origin)
    cur_origin = origin
    zone = None
    owner = None
    default_ttl = None  # from $TTL
    last_ttl = None
    for line, blank, toks in _entries(text, filename):
        try:
            first = toks[0][0]
            if not blank and first.startswith("$") and not toks[0][1]:
                d = first.upper()
                if d == "$ORIGIN":
                    if len(toks) != 2:
                        raise FieldError("$ORIGIN", "expects one name")
                    cur_origin = _name(toks[1], cur_origin, "$ORIGIN")
                elif d == "$TTL":
                    if len(toks) != 2:
                        raise FieldError("$TTL", "expects one value")
                    default_ttl = parse_ttl(toks[1][0], "$TTL")
                else:
                    raise FieldError("directive", "unsupported directive %s" % first)
                continue
            i = 0
            if blank:
                if owner is None:
                    raise FieldError("owner", "first record has no owner name")
            else:
                if cur_origin is None and first != "@" and not first.endswith("."):
                    raise FieldError("owner", "relative name %r before any $ORIGIN" % first)
                owner = _name(toks[0], cur_origin, "owner")
                i = 1
            ttl = None
            cls = None
            while i < len(toks) and (ttl is None or cls is None):
                t = toks[i][0]
                if ttl is None and t[:1].isdigit():
                    ttl = parse_ttl(t)
                elif cls is None and t.upper() in _CLASSES:
                    cls = t.upper()
                else:
                    break
                i += 1
            if cls is not None and cls != "IN":
                raise FieldError("class", "only class IN is served, got %s" % cls)
            if i >= len(toks):
                raise FieldError("type", "missing record type")
            rtype = parse_type(toks[i][0])
            rdata = rdata_from_text(rtype, toks[i + 1:], cur_origin)
            if ttl is None:
                ttl = default_ttl if default_ttl is not None else last_ttl
                if ttl is None and rtype == wire.SOA:
                    ttl = struct.unpack(">I", rdata[-4:])[0]  # RFC 1035: SOA minimum
                if ttl is None:
                    raise FieldError("ttl", "no TTL given and no $TTL before")
            else:
                last_ttl = ttl
            if zone is None:
                if rtype != wire.SOA:
                    raise FieldError("type", "the first record must be the SOA")
                zone = Zone(owner if origin is None else origin)
            low = owner.lower()
            if not wire.is_subdomain(low, zone.key):
                raise FieldError("owner", "%s is outside the zone %s" % (
                    wire.name_to_text(owner), wire.name_to_text(zone.origin)))
            if rtype == wire.SOA and low != zone.key:
                raise FieldError("type", "SOA away from the zone apex")
            node = zone.nodes.get(low)
            if node:
                if rtype == wire.CNAME:
                    raise FieldError("type", "CNAME next to other data at %s" % wire.name_to_text(owner))
                if rtype != wire.CNAME and wire.CNAME in node:
                    raise FieldError("type", "data next to a CNAME at %s" % wire.name_to_text(owner))
                if rtype == wire.SOA and wire.SOA in node:
                    raise FieldError("type", "second SOA")
            zone.add(owner, rtype, ttl, rdata)
        except FieldError as e:
            raise ZoneError(filename, line, e.field, str(e))
    if zone is None:
        raise ZoneError(filename, 1, "SOA", "no records (a zone needs an SOA)")
    zone.finish()
    return zone


def load_zone(path, origin=None):
    with open(path) as f:
        text = f.read()
    return parse_zone(text, origin, path)
