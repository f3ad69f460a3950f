# ICMP for IPv4 (RFC 792): echo reply and destination unreachable; the packet an error
# quotes, for the transport it concerns (RFC 5927: TCP checks it against a flow).
from morgana.net import Drop
from morgana.net.checksum import csum, finish

ECHO_REPLY = 0
UNREACHABLE = 3
SOURCE_QUENCH = 4
ECHO_REQUEST = 8
TIME_EXCEEDED = 11
PARAMETER_PROBLEM = 12
ERRORS = (UNREACHABLE, SOURCE_QUENCH, TIME_EXCEEDED, PARAMETER_PROBLEM)
CODE_PORT_UNREACHABLE = 3
CODE_FRAG_NEEDED = 4


def parse(buf):
    """-> (type, code, memoryview of the whole message). Checks length and checksum."""
    if len(buf) < 8:
        raise Drop("icmp_truncated")
    if csum(buf) != 0xFFFF:
        raise Drop("icmp_bad_csum")
    mv = memoryview(buf)
    return mv[0], mv[1], mv


def _with_csum(msg):
    c = finish(csum(msg))
    msg[2] = c >> 8
    msg[3] = c & 255
    return msg


def echo_reply(request):
    """The reply to an echo request: same id, sequence and data."""
    msg = bytearray(request)
    msg[0] = ECHO_REPLY
    msg[1] = 0
    msg[2] = msg[3] = 0
    return _with_csum(msg)


def echo_request(ident, seq, data=b""):
    msg = bytearray(8 + len(data))
    msg[0] = ECHO_REQUEST
    msg[4:8] = bytes([ident >> 8, ident & 255, seq >> 8, seq & 255])
    msg[8:] = data
    return _with_csum(msg)


def unreachable(code, orig_ip_packet):
    """Destination unreachable quoting the offending IP header and 8 bytes of its data."""
    hlen = (orig_ip_packet[0] & 15) * 4
    quote = bytes(orig_ip_packet[0:hlen + 8])
    msg = bytearray(8 + len(quote))
    msg[0] = UNREACHABLE
    msg[1] = code
    msg[8:] = quote
    return _with_csum(msg)


def parse_error(msg):
    """The packet an ICMP error message (from parse) quotes: -> (src, dst, proto,
    memoryview of the quoted transport header, at least 8 bytes, next-hop MTU: RFC 1191's
    field of 'fragmentation needed', 0 when absent). Drop when the quote is too short to
    name a connection, or quotes a fragment other than the first."""
    if len(msg) < 8 + 20 + 8:
        raise Drop("icmp_error_truncated")
    q = msg[8:]
    if q[0] >> 4 != 4:
        raise Drop("icmp_error_bad_quote")
    hlen = (q[0] & 15) * 4
    if hlen < 20 or len(q) < hlen + 8:
        raise Drop("icmp_error_truncated")
    if ((q[6] & 0x1F) << 8) | q[7]:
        raise Drop("icmp_error_bad_quote")  # no transport header in a later fragment
    src = int.from_bytes(bytes(q[12:16]), "big")
    dst = int.from_bytes(bytes(q[16:20]), "big")
    return src, dst, q[9], q[hlen:], (msg[6] << 8) | msg[7]


def frag_needed(mtu, orig_ip_packet):
    """Destination unreachable, fragmentation needed, with the next-hop MTU (RFC 1191):
    what a router sends back for a DF packet too big for its next link (tests use it)."""
    msg = bytearray(unreachable(CODE_FRAG_NEEDED, orig_ip_packet))
    msg[2] = msg[3] = 0
    msg[6] = mtu >> 8
    msg[7] = mtu & 255
    return _with_csum(msg)
