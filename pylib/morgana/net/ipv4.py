# IPv4 (RFC 791): header codec, fragmentation, reassembly, next-hop choice.
# Pure functions and a reassembly table driven by `now`; the stack does the I/O.
import struct
from morgana.net import Drop
from morgana.net.checksum import csum, finish

PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17
HEADER_LEN = 20
MAX_DATAGRAM = 65535


# IPv4 options (RFC 791 3.1): we honour none of them, and never echo any back. Options
# whose sender expects us to act on them, or that are obsolete (RFC 6814), drop the
# packet (RFC 7126's advice): source routes above all, which would have us answer along a
# path the sender chose. Every other option (EOOL, NOP, record route, timestamp, security
# labels, router alert, quick-start, experiments, unknown types) is skipped. A malformed
# option list (a length byte under 2 or past the header) drops the packet.
_DROP_OPTIONS = {131: "ipv4_source_route",      # LSRR
                 137: "ipv4_source_route",      # SSRR
                 136: "ipv4_obsolete_option",   # stream ID
                 10: "ipv4_obsolete_option",    # ZSU
                 11: "ipv4_obsolete_option",    # MTU probe
                 12: "ipv4_obsolete_option",    # MTU reply
                 15: "ipv4_obsolete_option",    # ENCODE
                 82: "ipv4_obsolete_option",    # traceroute
                 142: "ipv4_obsolete_option",   # VISA
                 144: "ipv4_obsolete_option",   # IMITD
                 145: "ipv4_obsolete_option",   # EIP
                 147: "ipv4_obsolete_option",   # address extension
                 149: "ipv4_obsolete_option",   # selective directed broadcast
                 151: "ipv4_obsolete_option",   # dynamic packet state
                 152: "ipv4_obsolete_option",   # upstream multicast packet
                 205: "ipv4_obsolete_option"}   # FINN


def check_options(mv, hlen):
    """Walk the options in mv[20:hlen]; raise Drop for the ones we refuse (see above)."""
    i = HEADER_LEN
    while i < hlen:
        t = mv[i]
        if t == 0:                  # end of option list: the rest is padding
            return
        if t == 1:                  # no-operation
            i += 1
            continue
        if i + 1 >= hlen:
            raise Drop("ipv4_bad_option")
        n = mv[i + 1]
        if n < 2 or i + n > hlen:
            raise Drop("ipv4_bad_option")
        r = _DROP_OPTIONS.get(t)
        if r is not None:
            raise Drop(r)
        i += n


def parse(buf):
    """Validate an IPv4 packet. -> (src, dst, proto, ident, more_frags, frag_offset_bytes,
    ttl, payload memoryview). Options are checked (check_options) and skipped; bytes past
    total length (Ethernet padding) are trimmed. Raises Drop(reason) for anything
    malformed or refused."""
    n = len(buf)
    if n < HEADER_LEN:
        raise Drop("ipv4_truncated")
    mv = memoryview(buf)
    vihl = mv[0]
    if vihl >> 4 != 4:
        raise Drop("ipv4_bad_version")
    hlen = (vihl & 15) * 4
    if hlen < HEADER_LEN:
        raise Drop("ipv4_bad_ihl")
    if hlen > n:
        raise Drop("ipv4_truncated")
    total, ident, frag, ttl, proto = struct.unpack_from(">HHHBB", mv, 2)
    if total < hlen:
        raise Drop("ipv4_bad_length")
    if total > n:
        raise Drop("ipv4_truncated")
    if csum(mv[0:hlen]) != 0xFFFF:
        raise Drop("ipv4_bad_csum")
    if frag & 0x8000:
        raise Drop("ipv4_reserved_flag")
    if hlen > HEADER_LEN:
        check_options(mv, hlen)
    src, dst = struct.unpack_from(">II", mv, 12)
    return src, dst, proto, ident, (frag >> 13) & 1, (frag & 0x1FFF) * 8, ttl, mv[hlen:total]


def header(src, dst, proto, payload_len, ident, ttl=64, df=False, more=False, offset=0):
    """A 20-byte header (no options) with its checksum."""
    frag = (0x4000 if df else 0) | (0x2000 if more else 0) | (offset >> 3)
    h = bytearray(struct.pack(">BBHHHBBHII", 0x45, 0, HEADER_LEN + payload_len, ident,
                              frag, ttl, proto, 0, src, dst))
    c = finish(csum(h))
    h[10] = c >> 8
    h[11] = c & 255
    return h


def header_into(buf, off, src, dst, proto, payload_len, ident, ttl=64, df=False):
    """Write an unfragmented 20-byte header with its checksum into buf at off (the
    one-copy output path: the caller puts the payload right after it). df sets Don't
    Fragment (TCP: path MTU discovery, RFC 1191)."""
    struct.pack_into(">BBHHHBBHII", buf, off, 0x45, 0, HEADER_LEN + payload_len, ident,
                     0x4000 if df else 0, ttl, proto, 0, src, dst)
    c = finish(csum(memoryview(buf)[off:off + HEADER_LEN]))
    buf[off + 10] = c >> 8
    buf[off + 11] = c & 255


def packets(src, dst, proto, payload, ident, mtu, ttl=64, df=False):
    """The list of IP packets (header + data) carrying payload, fragmented to fit mtu.
    df marks a packet that fits Don't Fragment (fragments never carry it)."""
    n = len(payload)
    if n + HEADER_LEN > MAX_DATAGRAM:
        raise ValueError("IPv4 payload too large: %d bytes" % n)
    if n + HEADER_LEN <= mtu:
        return [header(src, dst, proto, n, ident, ttl, df) + payload]
    step = (mtu - HEADER_LEN) & ~7
    if step <= 0:
        raise ValueError("MTU too small to fragment: %d" % mtu)
    mv = memoryview(payload)
    out = []
    off = 0
    while off < n:
        chunk = mv[off:off + step]
        more = off + step < n
        out.append(header(src, dst, proto, len(chunk), ident, ttl, False, more, off) + chunk)
        off += step
    return out


def next_hop(dst, local, netmask, gateway):
    """Where to send a packet for dst: dst itself when on-link or broadcast, else the
    gateway. None when off-link with no gateway (unroutable)."""
    if dst == 0xFFFFFFFF or (dst & netmask) == (local & netmask):
        return dst
    return gateway or None


class Reassembler:
    """Fragment reassembly with a bound on buffered bytes (`max_bytes`), on datagrams in
    progress (`max_datagrams`, oldest evicted first) and on time (`timeout` s).
    An exact duplicate fragment is ignored; any other overlap discards the datagram
    (overlaps are a classic evasion trick and never legitimate)."""

    def __init__(self, max_bytes=256 * 1024, max_datagrams=32, timeout=30.0):
        self.max_bytes = max_bytes
        self.max_datagrams = max_datagrams
        self.timeout = timeout
        self.held = 0
        self.evicted = 0  # datagrams thrown out to make room (the stack reports it)
        self.table = {}  # key -> [deadline, total or -1, [(off, bytes)], bytes held]
        self.order = []  # keys, oldest first

    def _discard(self, key):
        e = self.table.pop(key, None)
        if e is not None:
            self.held -= e[3]
            self.order.remove(key)

    def add(self, key, offset, more, data, now):
        """Add one fragment (data: its payload). -> the whole payload (bytes) once complete,
        else None. Raises Drop(reason) when the fragment is rejected."""
        n = len(data)
        end = offset + n
        if end + HEADER_LEN > MAX_DATAGRAM:
            self._discard(key)
            raise Drop("frag_too_big")
        if more and (n == 0 or n & 7):
            raise Drop("frag_bad_len")
        if n > self.max_bytes:
            raise Drop("frag_too_big")
        e = self.table.get(key)
        if e is None:
            while len(self.order) >= self.max_datagrams or self.held + n > self.max_bytes:
                if not self.order:
                    break
                self._discard(self.order[0])
                self.evicted += 1
            e = [now + self.timeout, -1, [], 0]
            self.table[key] = e
            self.order.append(key)
        else:
            while self.held + n > self.max_bytes and self.order[0] != key:
                self._discard(self.order[0])
                self.evicted += 1
            if self.held + n > self.max_bytes:
                self._discard(key)
                raise Drop("frag_memory")
        if not more:
            if e[1] >= 0 and e[1] != end:
                self._discard(key)
                raise Drop("frag_inconsistent")
            e[1] = end
            if e[2] and e[2][-1][0] + len(e[2][-1][1]) > end:
                self._discard(key)
                raise Drop("frag_inconsistent")
        if e[1] >= 0 and end > e[1]:
            self._discard(key)
            raise Drop("frag_inconsistent")
        frags = e[2]
        i = 0
        for (o, d) in frags:
            oe = o + len(d)
            if oe <= offset:
                i += 1
                continue
            if o >= end:
                break
            if o == offset and oe == end and d == bytes(data):
                raise Drop("frag_dup")
            self._discard(key)
            raise Drop("frag_overlap")
        frags.insert(i, (offset, bytes(data)))
        e[3] += n
        self.held += n
        if e[1] < 0:
            return None
        pos = 0
        for (o, d) in frags:
            if o != pos:
                return None
            pos += len(d)
        if pos != e[1]:
            return None
        self._discard(key)
        return b"".join([d for (o, d) in frags])

    def expire(self, now):
        """Drop datagrams past their deadline; -> how many were dropped."""
        gone = 0
        for key in list(self.order):
            if self.table[key][0] < now:
                self._discard(key)
                gone += 1
        return gone
