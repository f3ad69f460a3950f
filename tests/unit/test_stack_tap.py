# The TAP netif's ifreq layout (what TUNSETIFF reads) and its argument checks; the
# device itself is exercised by tests/tap (needs root and /dev/net/tun).
import struct
from morgana.net import tap


def test_ifreq_layout():
    r = tap._ifreq("tap0")
    assert len(r) == tap.IFREQ_LEN == 40
    assert bytes(r[:16]) == b"tap0" + bytes(12)
    assert struct.unpack("<H", bytes(r[16:18]))[0] == tap.IFF_TAP | tap.IFF_NO_PI == 0x1002
    assert bytes(r[18:]) == bytes(22)


def test_ifreq_rejects_bad_names():
    for name in ("", "x" * 16):
        try:
            tap._ifreq(name)
            assert False, name
        except ValueError:
            pass
    assert bytes(tap._ifreq("a" * 15)[:16]) == b"a" * 15 + b"\x00"


def test_random_mac_is_local_unicast():
    for _ in range(20):
        m = tap._random_mac()
        assert len(m) == 6 and m[0] & 1 == 0 and m[0] & 2 == 2
