# Ethernet framing.
from morgana.net import Drop, ethernet

M1 = b"\x02\x00\x00\x00\x00\x01"


def test_roundtrip():
    f = ethernet.header(b"\xff" * 6, M1, ethernet.ETH_ARP) + b"payload"
    dst, src, et, pl = ethernet.parse(f)
    assert (dst, src, et, bytes(pl)) == (b"\xff" * 6, M1, 0x0806, b"payload")
    assert ethernet.is_multicast(dst) and not ethernet.is_multicast(src)


def test_truncated():
    try:
        ethernet.parse(b"\x00" * 13)
        assert False
    except Drop as e:
        assert e.reason == "eth_truncated"
