# ICMP errors into TCP, validated as RFC 5927 asks: fragmentation needed lowers a flow's
# path MTU (RFC 1191) only when the quoted segment names the flow and its sequence number
# lies in SND.UNA..SND.NXT; destination unreachable aborts a connection still opening, never
# an established one. Through the whole stack: DF on TCP segments, ICMP dispatched to TCP.
from morgana import sched
from morgana.net import ethernet, icmp, ipv4, udp
from morgana.net import tcp_wire as w
from morgana.net import tcp_flow as tf
from morgana.net.stack import Stack
from test_tcp_simlink import connected, pair, pattern, IP_A, IP_B
from test_stack import FakeNetif, _arp_reply, _eth, US_MAC, PEER, US

M = 0xFFFFFFFF


def _frag(a, sf, mtu, seq):
    a.icmp_error("frag", icmp.CODE_FRAG_NEEDED, mtu, IP_A, sf.rip, sf.lport, sf.rport, seq)


def test_frag_needed_lowers_the_mss_and_resends_smaller():
    clock, link, a, b, cf, sf = connected()
    link.logging = True
    data = pattern(60000)
    off = sf.send_nowait(data)
    link.drop_fn = lambda src, s: src == IP_A and len(s.data) > 1000  # the path's limit
    _frag(a, sf, 1040, sf.snd_una)
    assert sf.mss == 1000 and a.stats["tcp_pmtu_lowered"] == 1
    got = bytearray()
    for _ in range(600):
        off += sf.send_nowait(memoryview(data)[off:])
        link.run(seconds=0.01)
        got += cf.recv_nowait() or b""
        if len(got) == len(data):
            break
    assert bytes(got) == data
    sizes = [len(s.data) for src, s in link.log if src == IP_A]
    assert max(sizes[-20:]) <= 1000
    assert a.stats.get("tcp_rto", 0) == 0  # resent at once, not after a timeout


def test_frag_needed_outside_the_window_or_for_no_flow_ignored():
    clock, link, a, b, cf, sf = connected()
    sf.send_nowait(pattern(3000))
    _frag(a, sf, 1040, (sf.snd_max + 10) & M)           # beyond what we sent
    _frag(a, sf, 1040, (sf.snd_una - 5000) & M)          # long acked
    a.icmp_error("frag", 4, 1040, IP_A, IP_B, 80, 1, sf.snd_una)  # no such flow
    a.icmp_error("frag", 4, 1040, IP_B, IP_B, sf.lport, sf.rport, sf.snd_una)  # not our ip
    assert sf.mss == 1460
    assert a.stats["tcp_icmp_bad_seq"] == 2 and a.stats["tcp_icmp_no_flow"] == 2


def test_frag_needed_never_below_the_minimum_nor_upwards():
    clock, link, a, b, cf, sf = connected()
    sf.send_nowait(pattern(3000))
    _frag(a, sf, 68, sf.snd_una)  # a forged tiny MTU
    assert sf.mss == tf.PMTU_MIN - 40
    _frag(a, sf, 1500, sf.snd_una)  # a larger one does not raise it again
    assert sf.mss == tf.PMTU_MIN - 40 and a.stats["tcp_pmtu_ignored"] == 1


def test_frag_needed_without_a_next_hop_mtu_takes_the_next_plateau():
    clock, link, a, b, cf, sf = connected()
    sf.send_nowait(pattern(3000))
    _frag(a, sf, 0, sf.snd_una)
    assert sf.mss == 1492 - 40 and sf.mss < 1460
    _frag(a, sf, 0, sf.snd_una)
    assert sf.mss == 1006 - 40


def test_unreachable_aborts_a_connection_still_opening():
    clock, link, a, b, sa, sb = pair()
    link.drop_fn = lambda src, s: True  # the SYN goes nowhere
    f = b.open(IP_A, 80)
    b.icmp_error("unreach", 1, 0, IP_B, IP_A, f.lport, 80, (f.iss + 5) & M)  # bad seq
    assert f.state == tf.SYN_SENT
    b.icmp_error("unreach", 1, 0, IP_B, IP_A, f.lport, 80, f.iss)
    assert f.state == tf.CLOSED and f.error == tf.EHOSTUNREACH
    g = b.open(IP_A, 81)
    b.icmp_error("unreach", 3, 0, IP_B, IP_A, g.lport, 81, g.iss)
    assert g.error == tf.ECONNREFUSED and sb["tcp_icmp_unreach_abort"] == 2
    assert not b.flows


def test_unreachable_is_a_soft_error_for_an_established_connection():
    clock, link, a, b, cf, sf = connected()
    sf.send_nowait(b"still here")
    a.icmp_error("unreach", 1, 0, IP_A, sf.rip, sf.lport, sf.rport, sf.snd_una)
    assert sf.state == tf.ESTABLISHED and sf.soft_error == tf.EHOSTUNREACH
    link.run(seconds=0.1)
    assert cf.recv_nowait() == b"still here"


def _run_stack(body):
    async def main():
        nif = FakeNetif()
        st = Stack(nif, ip="10.0.0.2", netmask="255.255.255.0")
        await st.start()
        st.input(_arp_reply())
        try:
            return await body(nif, st)
        finally:
            st.stop()
    return sched.run(main())


async def _sent(nif, proto):
    # the next IPv4 packet of proto the stack sends (ARP and others skipped)
    while True:
        f = await sched.with_timeout(1.0, nif.tx.get())
        d, s, etype, payload = ethernet.parse(f)
        if etype == ethernet.ETH_IPV4 and payload[9] == proto:
            return bytes(payload)


def test_stack_sets_df_on_tcp_and_hands_icmp_errors_to_tcp():
    async def body(nif, st):
        if st.tcp is None:
            return None
        f = st.tcp.open(PEER, 80)
        syn = await _sent(nif, ipv4.PROTO_TCP)
        assert syn[6] & 0x40  # DF
        await st.udp_send(b"x", "10.0.0.1", 9, src_port=5)
        dgram = await _sent(nif, udp.PROTO)
        assert not dgram[6] & 0x40  # UDP may be fragmented on the way
        # a router's "port unreachable" quoting our SYN aborts the connect
        err = icmp.unreachable(icmp.CODE_PORT_UNREACHABLE, syn)
        router = ipv4.packets(0x0A0000FE, US, ipv4.PROTO_ICMP, err, 9, 1500)[0]
        st.input(_eth(US_MAC, ethernet.ETH_IPV4, router))
        g = st.tcp.open(PEER, 81)
        syn2 = await _sent(nif, ipv4.PROTO_TCP)
        frag = icmp.frag_needed(560, syn2)
        st.input(_eth(US_MAC, ethernet.ETH_IPV4,
                      ipv4.packets(0x0A0000FE, US, ipv4.PROTO_ICMP, frag, 10, 1500)[0]))
        # a quote of someone else's packet is dropped before TCP sees it
        other = bytearray(syn2)
        other[12:16] = bytes((10, 0, 0, 99))
        st.input(_eth(US_MAC, ethernet.ETH_IPV4, ipv4.packets(
            0x0A0000FE, US, ipv4.PROTO_ICMP, icmp.unreachable(1, bytes(other)), 11, 1500)[0]))
        return f.state, f.error, g.mss_cap, dict(st.stats)

    r = _run_stack(body)
    if r is None:
        return
    state, error, cap, stats = r
    assert state == tf.CLOSED and error == tf.ECONNREFUSED
    assert cap == 520 and stats["tcp_pmtu_lowered"] == 1
    assert stats["icmp_error_in"] == 2 and stats["icmp_error_not_ours"] == 1


def test_icmp_parse_error_checks_the_quote():
    pkt = ipv4.packets(US, PEER, ipv4.PROTO_TCP,
                       w.build(US, PEER, 1234, 80, 77, 0, w.SYN, 100), 1, 1500)[0]
    msg = icmp.frag_needed(1400, pkt)
    src, dst, proto, quote, mtu = icmp.parse_error(memoryview(msg))
    assert (src, dst, proto, mtu) == (US, PEER, 6, 1400)
    assert bytes(quote[:8]) == bytes(pkt[20:28])
    for bad in (msg[:30], bytes(msg[:8]) + b"\x65" + bytes(msg[9:])):
        try:
            icmp.parse_error(memoryview(bad))
            assert False, "accepted a bad quote"
        except Exception as e:
            assert e.__class__.__name__ == "Drop"
