# DNS message wire format (RFC 1035 section 4): names with compression, records, messages.
# Names are kept as uncompressed wire bytes (b'\x03www\x07example\x00'), original case;
# lookups use name.lower() (length bytes are <= 63, below 'A', so lower() is safe).
# Every parse error is a WireError: callers answer FORMERR or drop, never crash.
import struct

A = 1
NS = 2
CNAME = 5
SOA = 6
PTR = 12
MX = 15
TXT = 16
AAAA = 28
SRV = 33
OPT = 41
IXFR = 251
AXFR = 252
ANY = 255
IN = 1

NOERROR = 0
FORMERR = 1
SERVFAIL = 2
NXDOMAIN = 3
NOTIMP = 4
REFUSED = 5
BADVERS = 16  # extended rcode (upper 8 bits live in the OPT TTL)

QR = 0x8000
AA = 0x0400
TC = 0x0200
RD = 0x0100

MAX_NAME = 255
ROOT = b"\x00"

TYPE_NAMES = {A: "A", NS: "NS", CNAME: "CNAME", SOA: "SOA", PTR: "PTR", MX: "MX",
              TXT: "TXT", AAAA: "AAAA", SRV: "SRV", OPT: "OPT", ANY: "ANY",
              AXFR: "AXFR", IXFR: "IXFR"}
TYPE_CODES = {}
for _c in TYPE_NAMES:
    TYPE_CODES[TYPE_NAMES[_c]] = _c

# Where the domain names sit in rdata of the RFC 1035 types that may be compressed
# (RFC 3597 section 4: only these; SRV and newer types are written uncompressed).
COMPRESSIBLE = {NS: 0, CNAME: 0, PTR: 0, MX: 2, SOA: 0}


class WireError(ValueError):
    pass


def read_name(buf, off):
    """-> (name wire bytes uncompressed, offset after the name in buf).
    Pointers must go strictly backwards, so a pointer loop cannot exist."""
    n = len(buf)
    out = bytearray()
    end = -1
    limit = off  # the next pointer must point before this
    while True:
        if off >= n:
            raise WireError("name runs past the end")
        l = buf[off]
        if l >= 0xC0:
            if off + 1 >= n:
                raise WireError("truncated compression pointer")
            target = ((l & 0x3F) << 8) | buf[off + 1]
            if end < 0:
                end = off + 2
            if target >= limit:
                raise WireError("compression pointer does not point backwards")
            limit = target
            off = target
            continue
        if l >= 0x40:
            raise WireError("bad label type 0x%02x" % l)
        if off + 1 + l > n:
            raise WireError("label runs past the end")
        out.append(l)
        if l == 0:
            break
        out += buf[off + 1:off + 1 + l]
        if len(out) > MAX_NAME - 1:
            raise WireError("name longer than 255 bytes")
        off += 1 + l
    if end < 0:
        end = off + 1
    return bytes(out), end


def name_labels(name):
    """Offsets of each label of an uncompressed wire name (root excluded)."""
    offs = []
    i = 0
    while name[i]:
        offs.append(i)
        i += name[i] + 1
    return offs


def is_subdomain(name, origin):
    """True when lowercase wire name equals origin or lies below it, on a label boundary."""
    if len(name) < len(origin):
        return False
    i = 0
    d = len(name) - len(origin)
    while i < d:
        i += name[i] + 1
    return i == d and name[d:] == origin


class Compressor:
    """Writes names into a message, pointing to suffixes already written (offsets < 16384)."""

    def __init__(self, base=0):
        self.table = {}
        self.base = base  # offset in the final message of out[0]

    def note(self, name, pos):
        """Record the suffixes of a name already present at message offset pos."""
        low = name.lower()
        i = 0
        while low[i] and pos + i < 0x4000:
            suf = low[i:]
            if suf not in self.table:
                self.table[suf] = pos + i
            i += low[i] + 1

    def put(self, out, name):
        low = name.lower()
        pos = self.base + len(out)
        i = 0
        while low[i]:
            suf = low[i:]
            ptr = self.table.get(suf)
            if ptr is not None:
                out += name[:i]
                out.append(0xC0 | (ptr >> 8))
                out.append(ptr & 255)
                return
            # labels written before a pointer still sit at pos + i: new suffixes
            if pos + i < 0x4000:
                self.table[suf] = pos + i
            i += low[i] + 1
        out += name


def put_rdata(out, comp, rtype, rdata):
    """Append rdlength + rdata, compressing names of the RFC 1035 types."""
    at = len(out)
    out += b"\x00\x00"
    start = len(out)
    p = COMPRESSIBLE.get(rtype)
    if p is None or comp is None:
        out += rdata
    elif rtype == SOA:
        _, e1 = read_name(rdata, 0)
        _, e2 = read_name(rdata, e1)
        comp.put(out, rdata[:e1])
        comp.put(out, rdata[e1:e2])
        out += rdata[e2:]
    else:
        out += rdata[:p]
        comp.put(out, rdata[p:])
    n = len(out) - start
    out[at] = n >> 8
    out[at + 1] = n & 255


def put_rr(out, comp, name, rtype, rclass, ttl, rdata):
    if comp is None:
        out += name
    else:
        comp.put(out, name)
    out += struct.pack(">HHI", rtype, rclass, ttl)
    put_rdata(out, comp, rtype, rdata)


def _expect_name(buf, off, end):
    name, off = read_name(buf, off)
    if off > end:
        raise WireError("name runs past rdata")
    return name, off


def read_rdata(buf, off, rdlen, rtype):
    """-> canonical (uncompressed) rdata; checks the fixed layouts of the known types."""
    end = off + rdlen
    if end > len(buf):
        raise WireError("rdata runs past the end")
    if rtype == A:
        if rdlen != 4:
            raise WireError("A rdata is not 4 bytes")
    elif rtype == AAAA:
        if rdlen != 16:
            raise WireError("AAAA rdata is not 16 bytes")
    elif rtype in (NS, CNAME, PTR):
        name, p = _expect_name(buf, off, end)
        if p != end:
            raise WireError("trailing bytes after name")
        return name
    elif rtype == MX:
        if rdlen < 3:
            raise WireError("short MX")
        name, p = _expect_name(buf, off + 2, end)
        if p != end:
            raise WireError("trailing bytes after MX name")
        return bytes(buf[off:off + 2]) + name
    elif rtype == SRV:
        if rdlen < 7:
            raise WireError("short SRV")
        name, p = _expect_name(buf, off + 6, end)
        if p != end:
            raise WireError("trailing bytes after SRV name")
        return bytes(buf[off:off + 6]) + name
    elif rtype == SOA:
        m, p = _expect_name(buf, off, end)
        r, p = _expect_name(buf, p, end)
        if end - p != 20:
            raise WireError("SOA numbers are not 20 bytes")
        return m + r + bytes(buf[p:end])
    elif rtype == TXT:
        p = off
        if rdlen == 0:
            raise WireError("empty TXT")
        while p < end:
            p += 1 + buf[p]
        if p != end:
            raise WireError("TXT string runs past rdata")
    return bytes(buf[off:end])


class Message:
    """A parsed or to-be-built message. Records are tuples (name, type, class, ttl, rdata)."""

    def __init__(self, id=0, flags=0):
        self.id = id
        self.flags = flags
        self.question = []  # (name, type, class)
        self.answer = []
        self.authority = []
        self.additional = []

    def rcode(self):
        return self.flags & 15


def parse_message(buf):
    n = len(buf)
    if n < 12:
        raise WireError("message shorter than its header")
    mid, flags, qd, an, ns, ar = struct.unpack_from(">HHHHHH", buf, 0)
    m = Message(mid, flags)
    off = 12
    for _ in range(qd):
        name, off = read_name(buf, off)
        if off + 4 > n:
            raise WireError("question runs past the end")
        t, c = struct.unpack_from(">HH", buf, off)
        off += 4
        m.question.append((name, t, c))
    for count, section in ((an, m.answer), (ns, m.authority), (ar, m.additional)):
        for _ in range(count):
            name, off = read_name(buf, off)
            if off + 10 > n:
                raise WireError("record header runs past the end")
            t, c, ttl, rdlen = struct.unpack_from(">HHIH", buf, off)
            off += 10
            rdata = read_rdata(buf, off, rdlen, t)
            off += rdlen
            section.append((name, t, c, ttl, rdata))
    if off != n:
        raise WireError("%d trailing bytes after the message" % (n - off))
    return m


def build_message(m, compress=True):
    out = bytearray(struct.pack(">HHHHHH", m.id, m.flags, len(m.question), len(m.answer),
                                len(m.authority), len(m.additional)))
    comp = Compressor() if compress else None
    for name, t, c in m.question:
        if comp is None:
            out += name
        else:
            comp.put(out, name)
        out += struct.pack(">HH", t, c)
    for section in (m.answer, m.authority, m.additional):
        for name, t, c, ttl, rdata in section:
            put_rr(out, comp, name, t, c, ttl, rdata)
    return bytes(out)


# ---- text forms of names (zone files, tests, logs) ----

def name_from_text(text, origin=None):
    """Presentation name -> wire. Relative names get origin appended; '@' is origin.
    Escapes: \\X and \\DDD (RFC 1035 5.1). Raises ValueError with the reason."""
    if text == "@":
        if origin is None:
            raise ValueError("'@' with no origin")
        return origin
    if text == ".":
        return ROOT
    out = bytearray()
    label = bytearray()
    i = 0
    n = len(text)
    absolute = False
    while i < n:
        ch = text[i]
        if ch == "\\":
            if i + 1 >= n:
                raise ValueError("dangling backslash in name %r" % text)
            if text[i + 1].isdigit():
                d = text[i + 1:i + 4]
                if len(d) != 3 or not d.isdigit() or int(d) > 255:
                    raise ValueError("bad \\DDD escape in name %r" % text)
                label.append(int(d))
                i += 4
                continue
            label += text[i + 1].encode()
            i += 2
            continue
        if ch == ".":
            if not label:
                raise ValueError("empty label in name %r" % text)
            if len(label) > 63:
                raise ValueError("label longer than 63 bytes in name %r" % text)
            out.append(len(label))
            out += label
            label = bytearray()
            if i == n - 1:
                absolute = True
            i += 1
            continue
        label += ch.encode()
        i += 1
    if label:
        if len(label) > 63:
            raise ValueError("label longer than 63 bytes in name %r" % text)
        out.append(len(label))
        out += label
    if absolute:
        out.append(0)
    else:
        if origin is None:
            raise ValueError("relative name %r with no origin" % text)
        out += origin
    if len(out) > MAX_NAME:
        raise ValueError("name %r longer than 255 bytes" % text)
    return bytes(out)


def name_to_text(name):
    if name == ROOT:
        return "."
    parts = []
    i = 0
    while name[i]:
        l = name[i]
        s = []
        for b in name[i + 1:i + 1 + l]:
            if b in b".\\;()\"@$ " or b < 33 or b > 126:
                s.append("\\%03d" % b)
            else:
                s.append(chr(b))
        parts.append("".join(s))
        i += l + 1
    return ".".join(parts) + "."
