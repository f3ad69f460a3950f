# Property tests for every parser below TCP: arbitrary bytes only ever raise Drop,
# build/parse round-trips, checksum implementations agree, reassembly is order-free,
# and the wired stack never lets an exception out of input().
from hypothesis import given, settings, strategies as st

from morgana.net import Drop, arp, dhcp, ethernet, icmp, ipv4, udp
from morgana.net.checksum import csum, csum_py, finish, pseudo_header_sum

ips = st.integers(0, 0xFFFFFFFF)
ports = st.integers(1, 65535)
blobs = st.binary(max_size=3000)


def _only_drop(fn, *args):
    try:
        fn(*args)
    except Drop:
        pass


def _ref_sum(b):
    s = 0
    for i in range(0, len(b) - 1, 2):
        s += (b[i] << 8) | b[i + 1]
    if len(b) & 1:
        s += b[-1] << 8
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


@given(blobs, st.integers(0, 0xFFFFF))
def test_checksum_matches_reference(b, start):
    assert csum(b) == _ref_sum(b) == csum_py(b)
    assert csum(b, start) == csum_py(b, start)


@given(st.binary(min_size=2, max_size=200).map(lambda b: b if len(b) % 2 == 0 else b + b"\0"))
def test_inserting_checksum_makes_sum_ffff(b):
    buf = bytearray(b"\0\0" + b)
    c = finish(csum(buf))
    buf[0], buf[1] = c >> 8, c & 255
    assert csum(buf) == 0xFFFF


@given(blobs)
def test_parsers_only_raise_drop(b):
    _only_drop(ethernet.parse, b)
    _only_drop(arp.parse, b)
    _only_drop(ipv4.parse, b)
    _only_drop(icmp.parse, b)
    _only_drop(udp.parse, b, 1, 2)
    _only_drop(dhcp.parse, b)


@given(ips, ips, ports, ports, st.binary(max_size=2000))
def test_udp_roundtrip_and_bitflips_caught(src, dst, sp, dp, data):
    d = udp.build(src, dst, sp, dp, data)
    assert udp.parse(d, src, dst)[0:2] == (sp, dp)
    assert bytes(udp.parse(d, src, dst)[2]) == data
    bad = bytearray(d)
    bad[len(bad) // 2] ^= 0x10  # a single bit flip is always caught (unless in ulen)
    try:
        r = udp.parse(bad, src, dst)
        assert bytes(r[2]) != data or r[0:2] != (sp, dp)
    except Drop:
        pass


@given(ips, ips, st.integers(0, 255), st.integers(0, 0xFFFF), st.binary(max_size=9000),
       st.integers(68, 9000), st.randoms())
def test_fragment_reassemble_any_order_with_dups(src, dst, proto, ident, data, mtu, rnd):
    pkts = ipv4.packets(src, dst, proto, data, ident, mtu)
    assert all(len(p) <= max(mtu, 28) for p in pkts)
    order = list(pkts) + [rnd.choice(pkts) for _ in range(len(pkts) // 3)]
    rnd.shuffle(order)
    r = ipv4.Reassembler(max_bytes=1 << 20)
    out = []
    for p in order:
        s, d, pr, i, mf, off, ttl, pl = ipv4.parse(p)
        assert (s, d, pr, i) == (src, dst, proto, ident)
        if not mf and not off:
            out.append(bytes(pl))
            continue
        try:
            w = r.add((s, d, pr, i), off, mf, pl, 0)
        except Drop as e:
            assert e.reason == "frag_dup"
            continue
        if w is not None:
            out.append(w)
    assert out and out[0] == data


@given(st.lists(st.tuples(st.integers(0, 200), st.booleans(), st.binary(max_size=64)),
                max_size=40))
def test_reassembler_bounded_under_garbage(frags):
    r = ipv4.Reassembler(max_bytes=512, max_datagrams=4)
    for n, (off8, more, data) in enumerate(frags):
        try:
            r.add((n % 6,), off8 * 8, more, data, float(n))
        except Drop:
            pass
        assert r.held <= 512 and len(r.table) <= 4
        assert r.held == sum(e[3] for e in r.table.values())
    r.expire(1e9)
    assert r.held == 0 and not r.table


@given(ips, ips, st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.binary(max_size=1000))
def test_icmp_echo_reply_roundtrip(a, b, ident, seq, data):
    req = icmp.echo_request(ident, seq, data)
    t, c, mv = icmp.parse(req)
    rep = icmp.echo_reply(mv)
    assert icmp.parse(rep)[0] == icmp.ECHO_REPLY and bytes(rep[4:]) == bytes(req[4:])


@given(st.integers(1, 2), st.binary(min_size=6, max_size=6), ips, st.binary(min_size=6, max_size=6), ips)
def test_arp_roundtrip(op, sha, spa, tha, tpa):
    assert arp.parse(arp.build(op, sha, spa, tha, tpa)) == (op, sha, spa, tha, tpa)


@given(st.integers(1, 8), st.integers(0, 0xFFFFFFFF), ips, ips,
       st.binary(max_size=300))
def test_dhcp_build_parse_and_trailing_garbage(t, xid, req, srv, junk):
    mac = b"\x02\x01\x02\x03\x04\x05"
    m = dhcp.parse(dhcp.build(t, xid, mac, requested=req, server=srv) + junk)
    assert m["xid"] == xid and m["options"][53] == bytes([t]) and m["chaddr"] == mac
    _only_drop(dhcp.lease_info, m)


def _fake_stack():
    from morgana.net.stack import Stack

    class Nif:
        mac = b"\x02\x00\x00\x00\x00\x02"
        mtu = 1500
        stats = {}

    return Stack(Nif(), ip="10.0.0.2", tcp=False)


_ST = None


@settings(max_examples=300)
@given(st.one_of(
    blobs,
    st.binary(max_size=1500).map(lambda b: b"\x02\x00\x00\x00\x00\x02" + b"\x02" * 6 + b"\x08\x00" + b),
    st.binary(max_size=60).map(lambda b: b"\xff" * 6 + b"\x02" * 6 + b"\x08\x06" + b),
    st.tuples(st.integers(0, 255), st.binary(max_size=1400)).map(
        lambda t: b"\x02\x00\x00\x00\x00\x02" + b"\x02" * 6 + b"\x08\x00" +
        bytes(ipv4.packets(0x0A000001, 0x0A000002, t[0], t[1], 1, 1500)[0]))))
def test_stack_input_never_raises(frame):
    global _ST
    if _ST is None:
        _ST = _fake_stack()
    _ST.input(frame)
    assert _ST.stats.get("rx_exception", 0) == 0
