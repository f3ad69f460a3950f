# Internet checksum: known vectors and agreement of the fast path with the portable one.
from morgana.net import checksum
from morgana.net.checksum import csum, csum_py, finish, pseudo_header_sum


def _data(n, seed=1):
    out = bytearray(n)
    x = seed
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out[i] = (x >> 16) & 255
    return out


def _ref(buf, start=0):
    # the textbook loop, independent of both implementations
    s = start
    for i in range(0, len(buf) - 1, 2):
        s += (buf[i] << 8) | buf[i + 1]
    if len(buf) & 1:
        s += buf[-1] << 8
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def test_rfc1071_example():
    assert csum(bytes([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7])) == 0xDDF2
    assert csum_py(bytes([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7])) == 0xDDF2


def test_valid_ip_header_sums_to_ffff():
    h = bytes.fromhex("450000730000400040 11b861c0a80001c0a800c7".replace(" ", ""))
    assert csum(h) == 0xFFFF
    bad = bytearray(h)
    bad[10] ^= 1
    assert csum(bad) != 0xFFFF


def test_empty_and_zero():
    assert csum(b"") == 0
    assert csum(bytes(6)) == 0
    assert csum(b"\xff\xff") == 0xFFFF
    assert csum(b"", 5) == 5


def test_odd_length_pads_with_zero():
    assert csum(b"\x12") == 0x1200
    assert csum(b"\x12\x34\x56") == 0x1234 + 0x5600


def test_impls_agree_with_reference():
    for n in (1, 2, 3, 19, 20, 64, 1499, 1500):
        d = _data(n, n)
        r = _ref(d)
        assert csum(d) == r, (n, checksum.impl)
        assert csum_py(d) == r, n
        assert csum(d, 0x1FFFE) == _ref(d, 0x1FFFE)


def test_memoryview_slices():
    d = _data(100, 7)
    mv = memoryview(d)
    assert csum(mv[3:57]) == _ref(d[3:57])
    assert csum(mv[10:11]) == _ref(d[10:11])


def test_carry_wraps_to_ffff_not_zero():
    # 0xffff + 0x0000 style sums: ones' complement gives 0xffff, never 0
    assert csum(b"\xff\xfe\x00\x01") == 0xFFFF
    assert csum_py(b"\xff\xfe\x00\x01") == 0xFFFF


def test_pseudo_header_and_finish():
    src, dst = 0x0A000001, 0x0A000002
    s = pseudo_header_sum(src, dst, 17, 12)
    assert s == _ref(bytes([10, 0, 0, 1, 10, 0, 0, 2, 0, 17, 0, 12]))
    seg = bytearray(_data(12, 3))
    seg[6] = seg[7] = 0
    c = finish(csum(seg, s))
    seg[6], seg[7] = c >> 8, c & 255
    assert csum(seg, s) == 0xFFFF
