# IPv4 options (RFC 7126): source-routed and obsolete-option packets are dropped and
# counted, malformed option lists are dropped, the other options are skipped; through
# ipv4.parse and through the stack (a ping with LSRR gets no reply, one with RR does).
from morgana import sched
from morgana.net import Drop, arp, ethernet, icmp, ipv4
from morgana.net.addr import ip_to_int
from morgana.net.checksum import csum, finish
from morgana.net.stack import Stack
from test_stack import FakeNetif

A = 0x0A000001
B = 0x0A000002
US_MAC = b"\x02\x00\x00\x00\x00\x02"
PEER_MAC = b"\x02\x00\x00\x00\x00\x01"

LSRR = bytes([131, 7, 4]) + bytes([10, 0, 0, 9])
SSRR = bytes([137, 7, 4]) + bytes([10, 0, 0, 9])
RR = bytes([7, 7, 4]) + bytes(4)
TS = bytes([68, 12, 5, 1]) + bytes(8)
ROUTER_ALERT = bytes([148, 4, 0, 0])
STREAM_ID = bytes([136, 4, 0, 1])
UNKNOWN = bytes([30, 4, 0, 0])              # an RFC 4727 experiment: not ours, skipped


def packet(options, payload=b"data", src=A, dst=B, proto=17):
    """An IPv4 packet carrying `options` (padded with EOOL to a word), checksummed."""
    opts = bytes(options)
    opts += b"\x00" * (-len(opts) % 4)
    h = bytearray(ipv4.header(src, dst, proto, len(opts) + len(payload), 1))
    h[0] = 0x40 | ((20 + len(opts)) // 4)
    h[10] = h[11] = 0
    h += opts
    c = finish(csum(h))
    h[10], h[11] = c >> 8, c & 255
    return bytes(h) + payload


def reason(pkt):
    try:
        ipv4.parse(pkt)
    except Drop as e:
        return e.reason
    return None


def test_source_routes_dropped():
    assert reason(packet(LSRR)) == "ipv4_source_route"
    assert reason(packet(SSRR)) == "ipv4_source_route"
    # behind other options, and after NOP padding: still found
    assert reason(packet(b"\x01" + RR + LSRR)) == "ipv4_source_route"
    assert reason(packet(ROUTER_ALERT + b"\x01\x01" + SSRR)) == "ipv4_source_route"


def test_obsolete_options_dropped():
    assert reason(packet(STREAM_ID)) == "ipv4_obsolete_option"
    for t in (10, 11, 12, 15, 82, 142, 144, 145, 147, 149, 151, 152, 205):
        assert reason(packet(bytes([t, 4, 0, 0]))) == "ipv4_obsolete_option", t


def test_other_options_skipped():
    for opts in (b"", b"\x01\x01\x01\x01", RR, TS, ROUTER_ALERT, UNKNOWN,
                 bytes([130, 11]) + bytes(9), RR + TS + ROUTER_ALERT):
        p = packet(opts, b"payload")
        assert reason(p) is None, opts
        assert bytes(ipv4.parse(p)[7]) == b"payload"


def test_end_of_options_ends_the_walk():
    # after EOOL the header's remaining bytes are padding, whatever they hold
    assert reason(packet(b"\x00" + LSRR)) is None
    assert reason(packet(b"\x01\x00\x89\x01")) is None


def test_malformed_option_lists_dropped():
    assert reason(packet(bytes([7, 1, 0, 0]))) == "ipv4_bad_option"     # length < 2
    assert reason(packet(bytes([7, 0, 0, 0]))) == "ipv4_bad_option"
    assert reason(packet(bytes([7, 9, 4, 0]))) == "ipv4_bad_option"     # past the header
    assert reason(packet(bytes([1, 1, 1, 7]))) == "ipv4_bad_option"     # no length byte
    # a source route whose length runs past the header is malformed before it is a route
    assert reason(packet(bytes([131, 40, 4, 0]))) == "ipv4_bad_option"


def test_a_bad_checksum_is_found_before_the_options():
    p = bytearray(packet(LSRR))
    p[10] ^= 1
    assert reason(p) == "ipv4_bad_csum"


def test_source_routed_fragments_dropped():
    # LSRR is a copied option: every fragment carries it
    h = bytearray(packet(LSRR))
    h[6] = 0x20                     # MF
    h[10] = h[11] = 0
    c = finish(csum(h[:28]))
    h[10], h[11] = c >> 8, c & 255
    assert reason(h) == "ipv4_source_route"


def _ping(options, ident):
    us, peer = ip_to_int("10.0.0.2"), ip_to_int("10.0.0.1")
    p = packet(options, bytes(icmp.echo_request(ident, 1, b"abcdefgh")), peer, us, 1)
    return ethernet.header(US_MAC, PEER_MAC, ethernet.ETH_IPV4) + p


def test_stack_counts_source_routed_pings_and_answers_the_rest():
    async def main():
        nif = FakeNetif()
        st = Stack(nif, ip="10.0.0.2", netmask="255.255.255.0", gateway="10.0.0.1", tcp=False)
        await st.start()
        try:
            await sched.with_timeout(1.0, nif.tx.get())     # gratuitous ARP
            st.arp.update(ip_to_int("10.0.0.1"), PEER_MAC, sched.now())
            for f in (_ping(LSRR, 1), _ping(SSRR, 2), _ping(STREAM_ID, 3),
                      _ping(bytes([7, 1, 0, 0]), 4), _ping(RR, 5)):
                nif.rx.put_nowait(f)
            d, s, et, pl = ethernet.parse(await sched.with_timeout(1.0, nif.tx.get()))
            t, code, msg = icmp.parse(ipv4.parse(pl)[7])
            assert t == icmp.ECHO_REPLY
            assert (msg[4] << 8 | msg[5]) == 5          # only the RR ping was answered
            # the reply carries no options of its own
            assert pl[0] == 0x45
            await sched.sleep(0.05)
            assert len(nif.tx) == 0
            assert st.stats["ipv4_source_route"] == 2
            assert st.stats["ipv4_obsolete_option"] == 1
            assert st.stats["ipv4_bad_option"] == 1
            assert "rx_exception" not in st.stats
        finally:
            st.stop()
    sched.run(main())
