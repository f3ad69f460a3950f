# UDP codec: checksum with the pseudo header, length lies, zero checksum.
from morgana.net import Drop, udp

A = 0x0A000001
B = 0x0A000002


def _reason(*args):
    try:
        udp.parse(*args)
    except Drop as e:
        return e.reason
    return None


def test_roundtrip():
    d = udp.build(A, B, 1234, 53, b"query")
    sp, dp, payload = udp.parse(d, A, B)
    assert (sp, dp, bytes(payload)) == (1234, 53, b"query")
    assert d[6] or d[7]


def test_checksum_covers_pseudo_header():
    d = udp.build(A, B, 1234, 53, b"query")
    assert _reason(d, A, B + 1) == "udp_bad_csum"
    bad = bytearray(d)
    bad[-1] ^= 0x20
    assert _reason(bad, A, B) == "udp_bad_csum"


def test_zero_checksum_accepted():
    d = bytearray(udp.build(A, B, 1, 2, b"abc"))
    d[6] = d[7] = 0
    assert bytes(udp.parse(d, A, B)[2]) == b"abc"


def test_length_lies_and_truncation():
    d = bytearray(udp.build(A, B, 1, 2, b"abc"))
    assert _reason(d[:7], A, B) == "udp_truncated"
    d2 = bytearray(d)
    d2[5] = 200
    assert _reason(d2, A, B) == "udp_bad_length"
    d2[5] = 4
    assert _reason(d2, A, B) == "udp_bad_length"
    # trailing bytes beyond the UDP length are ignored
    d3 = d + b"junk"
    assert bytes(udp.parse(d3, A, B)[2]) == b"abc"
