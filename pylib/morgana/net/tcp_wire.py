# TCP segment codec (RFC 9293 header, RFC 7323 window scale, MSS, RFC 2018 SACK options):
# pure functions.
#   parse(src, dst, buf) -> Segment, or raises Drop(reason) for anything malformed.
#   build(src, dst, sport, dport, seq, ack, flags, wnd, opts, payload) -> bytearray
# Checksums go through morgana.net.checksum (C or viper where available).
import struct
from morgana.net import Drop
from morgana.net.checksum import csum, pseudo_header_sum

FIN = 0x01
SYN = 0x02
RST = 0x04
PSH = 0x08
ACK = 0x10
URG = 0x20

HEADER_LEN = 20
OPT_EOL = 0
OPT_NOP = 1
OPT_MSS = 2
OPT_WS = 3
OPT_SACK_OK = 4
OPT_SACK = 5
OPT_TS = 8
MAX_WSCALE = 14  # RFC 7323 2.3: larger shifts are clamped to 14

_HDR = ">HHIIBBHHH"


class Segment:
    """A parsed segment. `data` is a memoryview into the received buffer (no copy)."""

    __slots__ = ("sport", "dport", "seq", "ack", "flags", "wnd", "mss", "wscale",
                 "sack_ok", "sack", "data")

    def __init__(self, sport, dport, seq, ack, flags, wnd, data):
        self.sport = sport
        self.dport = dport
        self.seq = seq
        self.ack = ack
        self.flags = flags
        self.wnd = wnd
        self.mss = None
        self.wscale = None
        self.sack_ok = False
        self.sack = None  # list of (left, right) sequence ranges the peer holds
        self.data = data

    def seglen(self):
        # sequence space used: data plus one each for SYN and FIN
        return len(self.data) + (self.flags & SYN and 1) + (self.flags & FIN and 1)


def parse_options(seg, opts):
    """Fill seg.mss/wscale/sack_ok from the option bytes. Unknown kinds are skipped by their
    length; a length that is too short or runs past the header is a Drop."""
    i = 0
    n = len(opts)
    while i < n:
        kind = opts[i]
        if kind == OPT_EOL:
            return
        if kind == OPT_NOP:
            i += 1
            continue
        if i + 1 >= n:
            raise Drop("tcp_bad_option")
        ln = opts[i + 1]
        if ln < 2 or i + ln > n:
            raise Drop("tcp_bad_option")
        if kind == OPT_MSS:
            if ln != 4:
                raise Drop("tcp_bad_option")
            seg.mss = (opts[i + 2] << 8) | opts[i + 3]
        elif kind == OPT_WS:
            if ln != 3:
                raise Drop("tcp_bad_option")
            seg.wscale = min(opts[i + 2], MAX_WSCALE)
        elif kind == OPT_SACK_OK:
            if ln != 2:
                raise Drop("tcp_bad_option")
            seg.sack_ok = True
        elif kind == OPT_SACK:
            if ln < 10 or (ln - 2) % 8:
                raise Drop("tcp_bad_option")
            blocks = []
            for j in range(i + 2, i + ln, 8):
                blocks.append((int.from_bytes(opts[j:j + 4], "big"),
                               int.from_bytes(opts[j + 4:j + 8], "big")))
            seg.sack = blocks
        i += ln


def parse(src, dst, buf):
    """Validate and decode a TCP segment carried from src to dst (ints)."""
    n = len(buf)
    if n < HEADER_LEN:
        raise Drop("tcp_truncated")
    mv = memoryview(buf)
    sport, dport, seq, ack, off, flags, wnd, _, _ = struct.unpack_from(_HDR, mv, 0)
    hlen = (off >> 4) * 4
    if hlen < HEADER_LEN or hlen > n:
        raise Drop("tcp_bad_offset")
    if csum(mv, pseudo_header_sum(src, dst, 6, n)) != 0xFFFF:
        raise Drop("tcp_bad_csum")
    if sport == 0 or dport == 0:
        raise Drop("tcp_bad_port")
    seg = Segment(sport, dport, seq, ack, flags & 0x3F, wnd, mv[hlen:])
    if hlen > HEADER_LEN:
        parse_options(seg, mv[HEADER_LEN:hlen])
    return seg


def syn_options(mss, wscale, sack_ok=False):
    """Options for a SYN or SYN-ACK: MSS, window scale when wscale is not None, and
    SACK-permitted."""
    o = bytearray(struct.pack(">BBH", OPT_MSS, 4, mss))
    if wscale is not None:
        o += bytes((OPT_NOP, OPT_WS, 3, wscale))
    if sack_ok:
        o += bytes((OPT_NOP, OPT_NOP, OPT_SACK_OK, 2))
    return o


def sack_option(blocks):
    """A SACK option (padded to 4 bytes) for 1 to 4 (left, right) blocks."""
    if not blocks:
        raise ValueError("a SACK option needs at least one block")
    blocks = blocks[:4]
    o = bytearray((OPT_NOP, OPT_NOP, OPT_SACK, 2 + 8 * len(blocks)))
    for left, right in blocks:
        o += struct.pack(">II", left, right)
    return o


def build(src, dst, sport, dport, seq, ack, flags, wnd, opts=b"", payload=b""):
    """One segment with its checksum. opts must be a multiple of 4 bytes long."""
    hlen = HEADER_LEN + len(opts)
    seg = bytearray(hlen + len(payload))
    struct.pack_into(_HDR, seg, 0, sport, dport, seq, ack, (hlen >> 2) << 4, flags, wnd, 0, 0)
    if opts:
        seg[HEADER_LEN:hlen] = opts
    if payload:
        seg[hlen:] = payload
    c = ~csum(seg, pseudo_header_sum(src, dst, 6, len(seg))) & 0xFFFF
    seg[16] = c >> 8
    seg[17] = c & 0xFF
    return seg
