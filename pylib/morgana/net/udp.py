# UDP (RFC 768): datagram codec with the pseudo-header checksum.
import struct
from morgana.net import Drop
from morgana.net.checksum import csum, finish, pseudo_header_sum

PROTO = 17
HEADER_LEN = 8


def parse(buf, src, dst):
    """-> (src_port, dst_port, payload memoryview). A zero checksum means 'none sent'."""
    if len(buf) < HEADER_LEN:
        raise Drop("udp_truncated")
    mv = memoryview(buf)
    sport, dport, ulen, ck = struct.unpack_from(">HHHH", mv, 0)
    if ulen < HEADER_LEN or ulen > len(mv):
        raise Drop("udp_bad_length")
    if ck and csum(mv[0:ulen], pseudo_header_sum(src, dst, PROTO, ulen)) != 0xFFFF:
        raise Drop("udp_bad_csum")
    if dport == 0:
        raise Drop("udp_port_zero")
    return sport, dport, mv[HEADER_LEN:ulen]


def build(src, dst, sport, dport, payload):
    n = HEADER_LEN + len(payload)
    if n > 65515:
        raise ValueError("UDP payload too large: %d bytes" % len(payload))
    d = bytearray(struct.pack(">HHHH", sport, dport, n, 0))
    d += payload
    c = finish(csum(d, pseudo_header_sum(src, dst, PROTO, n)))
    if c == 0:
        c = 0xFFFF  # 0 would mean 'no checksum'
    d[6] = c >> 8
    d[7] = c & 255
    return d
