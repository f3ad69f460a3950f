# ICMP echo reply and port-unreachable construction, parse validation.
from morgana.net import Drop, icmp, ipv4
from morgana.net.checksum import csum


def test_echo_reply_roundtrip():
    req = icmp.echo_request(0x1234, 7, b"ping-data")
    t, c, mv = icmp.parse(req)
    assert (t, c) == (icmp.ECHO_REQUEST, 0)
    rep = icmp.echo_reply(mv)
    t, c, mv2 = icmp.parse(rep)
    assert t == icmp.ECHO_REPLY and bytes(rep[4:]) == bytes(req[4:])
    assert csum(rep) == 0xFFFF


def test_bad_icmp_dropped():
    req = bytearray(icmp.echo_request(1, 1, b"x"))
    req[8] ^= 1
    for buf, reason in ((req, "icmp_bad_csum"), (b"\x08\x00\x00", "icmp_truncated")):
        try:
            icmp.parse(buf)
            assert False, "accepted"
        except Drop as e:
            assert e.reason == reason


def test_unreachable_quotes_header_and_8_bytes():
    pkt = ipv4.packets(1, 2, 17, b"12345678-rest-of-udp", 3, 1500)[0]
    msg = icmp.unreachable(icmp.CODE_PORT_UNREACHABLE, pkt)
    assert msg[0] == 3 and msg[1] == 3 and len(msg) == 8 + 28
    assert bytes(msg[8:]) == bytes(pkt[:28])
    assert csum(msg) == 0xFFFF
