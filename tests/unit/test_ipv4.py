# IPv4 codec, fragmentation, reassembly limits and next-hop choice.
from morgana.net import Drop, ipv4
from morgana.net.checksum import csum

A = 0x0A000001
B = 0x0A000002


def _drop(fn, *args):
    try:
        fn(*args)
    except Drop as e:
        return e.reason
    return None


def test_build_and_parse_roundtrip():
    p = ipv4.packets(A, B, 17, b"hello", 7, 1500)
    assert len(p) == 1 and len(p[0]) == 25
    assert csum(p[0][:20]) == 0xFFFF
    src, dst, proto, ident, mf, off, ttl, payload = ipv4.parse(p[0])
    assert (src, dst, proto, ident, mf, off, ttl) == (A, B, 17, 7, 0, 0, 64)
    assert bytes(payload) == b"hello"


def test_padding_trimmed_and_options_skipped():
    p = bytes(ipv4.packets(A, B, 17, b"abc", 1, 1500)[0]) + b"\x00" * 10
    assert bytes(ipv4.parse(p)[7]) == b"abc"
    # IHL 6 with a NOP option word: the option is skipped, the checksum still checked
    h = bytearray(ipv4.header(A, B, 17, 3 + 4, 1))
    h[0] = 0x46
    h[10] = h[11] = 0
    h += b"\x01\x01\x01\x00"
    from morgana.net.checksum import finish
    c = finish(csum(h))
    h[10], h[11] = c >> 8, c & 255
    assert bytes(ipv4.parse(h + b"xyz")[7]) == b"xyz"


def test_malformed_headers_dropped_with_reason():
    good = bytearray(ipv4.packets(A, B, 17, b"data", 1, 1500)[0])
    assert _drop(ipv4.parse, good[:19]) == "ipv4_truncated"
    bad = bytearray(good)
    bad[0] = 0x65
    assert _drop(ipv4.parse, bad) == "ipv4_bad_version"
    bad = bytearray(good)
    bad[0] = 0x44
    assert _drop(ipv4.parse, bad) == "ipv4_bad_ihl"
    bad = bytearray(good)
    bad[0] = 0x4F  # 60-byte header in a 24-byte packet
    assert _drop(ipv4.parse, bad) == "ipv4_truncated"
    bad = bytearray(good)
    bad[3] = 100  # total length lies: longer than the packet
    assert _drop(ipv4.parse, bad) == "ipv4_truncated"
    bad = bytearray(good)
    bad[2], bad[3] = 0, 10  # total length shorter than the header
    assert _drop(ipv4.parse, bad) == "ipv4_bad_length"
    bad = bytearray(good)
    bad[12] ^= 0x40
    assert _drop(ipv4.parse, bad) == "ipv4_bad_csum"


def test_fragmentation_and_reassembly():
    payload = bytes(range(256)) * 32  # 8192 bytes
    frags = ipv4.packets(A, B, 1, payload, 99, 1500)
    assert len(frags) == 6
    assert all(len(f) <= 1500 for f in frags)
    r = ipv4.Reassembler()
    out = None
    for f in reversed(frags):  # out of order
        src, dst, proto, ident, mf, off, ttl, data = ipv4.parse(f)
        assert out is None
        out = r.add((src, dst, proto, ident), off, mf, data, 0.0)
    assert out == payload
    assert r.held == 0 and not r.table


def test_duplicate_fragment_ignored_overlap_discards():
    r = ipv4.Reassembler()
    k = (A, B, 1, 5)
    assert r.add(k, 0, 1, b"a" * 16, 0) is None
    assert _drop(r.add, k, 0, 1, b"a" * 16, 0) == "frag_dup"
    assert _drop(r.add, k, 8, 1, b"b" * 16, 0) == "frag_overlap"
    assert not r.table and r.held == 0
    # same datagram again, cleanly
    assert r.add(k, 0, 1, b"a" * 8, 0) is None
    assert r.add(k, 8, 0, b"z", 0) == b"a" * 8 + b"z"


def test_fragment_limits():
    r = ipv4.Reassembler(max_bytes=64, max_datagrams=2, timeout=5)
    assert _drop(r.add, (1,), 0, 1, b"x" * 7, 0) == "frag_bad_len"
    assert _drop(r.add, (1,), 65512, 0, b"x" * 8, 0) == "frag_too_big"
    r.add((1,), 0, 1, b"x" * 32, 0)
    r.add((2,), 0, 1, b"x" * 32, 0)
    r.add((3,), 0, 1, b"x" * 16, 0)  # evicts (1,): bounded datagrams and bytes
    assert r.evicted == 1 and (1,) not in r.table and r.held == 48
    assert r.expire(4.0) == 0
    assert r.expire(6.0) == 2 and r.held == 0
    # last fragment disagreeing with one already past its end
    r.add((4,), 16, 1, b"y" * 8, 0)
    assert _drop(r.add, (4,), 0, 0, b"y" * 8, 0) == "frag_inconsistent"


def test_next_hop():
    mask = 0xFFFFFF00
    gw = 0x0A000001
    assert ipv4.next_hop(0x0A000005, B, mask, gw) == 0x0A000005
    assert ipv4.next_hop(0x08080808, B, mask, gw) == gw
    assert ipv4.next_hop(0x08080808, B, mask, 0) is None
    assert ipv4.next_hop(0xFFFFFFFF, B, mask, gw) == 0xFFFFFFFF


def test_header_into_matches_header():
    buf = bytearray(40)
    ipv4.header_into(buf, 14, A, B, 6, 6, 321, 33)
    assert bytes(buf[14:34]) == bytes(ipv4.header(A, B, 6, 6, 321, 33))
    assert buf[:14] == bytearray(14) and csum(buf[14:34]) == 0xFFFF
