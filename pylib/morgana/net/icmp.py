# ICMP for IPv4 (RFC 792): echo reply and destination unreachable.
from morgana.net import Drop
from morgana.net.checksum import csum, finish

ECHO_REPLY = 0
UNREACHABLE = 3
ECHO_REQUEST = 8
TIME_EXCEEDED = 11
CODE_PORT_UNREACHABLE = 3


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
