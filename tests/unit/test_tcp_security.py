# Blind attacks and floods: RFC 5961 challenge ACKs (RST, SYN, ACK checks) and their rate
# limit, SYN floods against the bounded half-open table, RST replies, malformed input,
# keyed ISNs.
from morgana.net import tcp_wire as w
from morgana.net import tcp_flow as tf
from morgana.net.tcp_isn import isn_function, isn_fallback
from test_tcp_simlink import pair, connected, IP_A, IP_B

M = 0xFFFFFFFF


def _to_server(link, cf, seq_off=0, ack=None, flags=w.ACK, data=b"", sport=None, src=IP_B):
    # a segment that looks like it comes from the client flow cf to the server on IP_A
    seq = (cf.snd_nxt + seq_off) & M
    seg = w.build(src, IP_A, sport or cf.lport, cf.rport, seq,
                  cf.rcv_nxt if ack is None else ack, flags, 1000, b"", data)
    link.inject(IP_A, src, seg)


def _sent_by(link, ip, flags):
    return [s for src, s in link.log if src == ip and s.flags == flags]


def test_rst_exact_sequence_resets():
    clock, link, a, b, cf, sf = connected()
    link.drop_fn = lambda src, s: src == IP_A  # keep the client's state still
    _to_server(link, cf, 0, flags=w.RST)
    link.run(seconds=0.01)
    assert sf.state == tf.CLOSED and sf.error == tf.ECONNRESET


def test_rst_in_window_gets_challenge_ack_and_flow_survives():
    clock, link, a, b, cf, sf = connected()
    link.logging = True
    _to_server(link, cf, 1000, flags=w.RST)  # in window, not exact: maybe blind
    link.run(seconds=0.01)
    assert sf.state == tf.ESTABLISHED
    assert a.stats["tcp_challenge_ack"] == 1
    ch = _sent_by(link, IP_A, w.ACK)
    assert ch and ch[0].ack == sf.rcv_nxt  # the ACK tells the real peer where we are
    # the genuine client is in sync, so data keeps flowing
    cf.send_nowait(b"still here")
    link.run(seconds=0.1)
    assert sf.recv_nowait() == b"still here"


def test_rst_out_of_window_ignored():
    clock, link, a, b, cf, sf = connected()
    link.logging = True
    _to_server(link, cf, 0x40000000, flags=w.RST)
    link.run(seconds=0.01)
    assert sf.state == tf.ESTABLISHED
    assert not _sent_by(link, IP_A, w.ACK) and "tcp_challenge_ack" not in a.stats
    assert a.stats["tcp_rst_out_of_window"] == 1


def test_syn_on_established_gets_challenge_ack_not_reset():
    clock, link, a, b, cf, sf = connected()
    link.logging = True
    for off in (0, 5, -5, 0x40000000):
        _to_server(link, cf, off, flags=w.SYN)
    link.run(seconds=0.01)
    assert sf.state == tf.ESTABLISHED
    assert a.stats["tcp_syn_in_window"] + a.stats["tcp_out_of_window"] == 4
    assert not _sent_by(link, IP_A, w.RST)


def test_ack_outside_sent_range_challenged_and_ignored():
    clock, link, a, b, cf, sf = connected()
    sf.send_nowait(b"data")
    una = sf.snd_una
    link.drop_fn = lambda src, s: src == IP_A and len(s.data) > 0  # keep data unacked
    link.run(seconds=0.01)
    _to_server(link, cf, 0, ack=(sf.snd_max + 100) & M)  # acks data never sent
    _to_server(link, cf, 0, ack=(sf.snd_una - 0x20000000) & M)  # far in the past
    link.run(seconds=0.01)
    assert sf.snd_una == una and sf.state == tf.ESTABLISHED
    assert a.stats["tcp_bad_ack"] == 2


def test_challenge_acks_rate_limited():
    clock, link, a, b, cf, sf = connected(tcp={"challenge_acks_per_sec": 5})
    link.logging = True
    for i in range(50):
        _to_server(link, cf, 100 + i, flags=w.RST)
    link.run(seconds=0.01)
    assert a.stats["tcp_challenge_ack"] == 5
    assert a.stats["tcp_challenge_ack_limited"] == 45
    assert sf.state == tf.ESTABLISHED
    clock.t += 1.5
    _to_server(link, cf, 200, flags=w.RST)
    link.run(seconds=0.01)
    assert a.stats["tcp_challenge_ack"] == 6  # a new second, a new allowance


def test_syn_flood_is_bounded_and_real_clients_get_through():
    clock, link, a, b, sa, sb = pair(tcp={"max_half_open": 64})
    got = []
    a.listen(80, got.append, backlog=32)
    for i in range(2000):
        src = 0x0B000000 + i
        syn = w.build(src, IP_A, 1024 + (i % 60000), 80, i * 7919, 0, w.SYN, 8192,
                      w.syn_options(1460, 2))
        link.inject(IP_A, src, syn)
        if i % 100 == 0:
            link.run(seconds=0.001)
            assert a.half_open <= 32 and len(a.listeners[80].half) <= 32
    link.run(seconds=0.001)
    assert a.half_open <= 32 and len(a.flows) <= 32
    # beyond the backlog the SYN-ACKs carry cookies and keep no state (RFC 4987)
    assert sa["tcp_syn_cookie_sent"] >= 2000 - 32 and "tcp_syn_evicted" not in sa
    # a genuine client connecting during the flood completes its handshake
    f = b.open(IP_A, 80)
    for i in range(20):
        src = 0x0C000000 + i
        link.inject(IP_A, src, w.build(src, IP_A, 5000, 80, i, 0, w.SYN, 8192))
    link.run(seconds=0.05)
    assert f.state == tf.ESTABLISHED and len(got) == 1
    assert sa["tcp_syn_cookie_ok"] == 1 and got[0].state == tf.ESTABLISHED
    # the half-open entries time out: SYN-ACK retries, then they are gone
    link.run(seconds=120)
    assert a.half_open == 0 and len(a.flows) == 1


def test_global_half_open_bound_across_listeners():
    clock, link, a, b, sa, sb = pair(tcp={"max_half_open": 10})
    for port in (80, 81, 82):
        a.listen(port, lambda f: None, backlog=100)
    for i in range(300):
        src = 0x0B000000 + i
        link.inject(IP_A, src, w.build(src, IP_A, 2000, 80 + i % 3, i, 0, w.SYN, 8192))
    link.run(seconds=0.01)
    assert a.half_open <= 10 and len(a.flows) <= 10


def test_max_flows_bound():
    clock, link, a, b, sa, sb = pair(tcp={"max_flows": 5})
    got = []
    a.listen(80, got.append)
    fs = [b.open(IP_A, 80) for _ in range(8)]
    link.run(seconds=0.1)
    assert len(got) == 5 and sa["tcp_syn_drop_flows"] >= 3
    assert sum(1 for f in fs if f.state == tf.ESTABLISHED) == 5


def test_rst_to_closed_port_and_never_to_rst():
    clock, link, a, b, sa, sb = pair()
    link.logging = True
    link.inject(IP_A, IP_B, w.build(IP_B, IP_A, 3333, 4444, 100, 0, w.SYN, 1000))
    link.inject(IP_A, IP_B, w.build(IP_B, IP_A, 3333, 4444, 100, 55, w.ACK, 1000, b"", b"zz"))
    link.inject(IP_A, IP_B, w.build(IP_B, IP_A, 3333, 4444, 100, 55, w.RST, 1000))
    link.run(seconds=0.01)
    rsts = [s for src, s in link.log if src == IP_A]
    assert len(rsts) == 2
    assert rsts[0].flags == w.RST | w.ACK and rsts[0].ack == 101 and rsts[0].seq == 0
    assert rsts[1].flags == w.RST and rsts[1].seq == 55
    assert sa["tcp_rst_no_flow"] == 1


def test_rst_replies_rate_limited():
    clock, link, a, b, sa, sb = pair(tcp={"rsts_per_sec": 10})
    for i in range(100):
        link.inject(IP_A, IP_B, w.build(IP_B, IP_A, 3000 + i, 4444, i, 0, w.SYN, 1000))
    link.run(seconds=0.01)
    assert sa["tcp_rst_out"] == 10 and sa["tcp_rst_limited"] == 90


def test_malformed_segments_counted_and_service_continues():
    clock, link, a, b, cf, sf = connected()
    good = w.build(IP_B, IP_A, cf.lport, 80, cf.snd_nxt, cf.rcv_nxt, w.ACK, 1000, b"", b"x")
    bad_csum = bytearray(good)
    bad_csum[-1] ^= 0xFF
    short = good[:13]
    bad_off = bytearray(good)
    bad_off[12] = 0x20
    for seg in (bad_csum, short, bad_off, b"", b"\xff" * 60):
        a.input(IP_B, IP_A, memoryview(bytes(seg)))
    st = a.stats
    assert st["tcp_bad_csum"] >= 2 and st["tcp_truncated"] == 2
    assert sf.state == tf.ESTABLISHED
    cf.send_nowait(b"after")
    link.run(seconds=0.1)
    assert sf.recv_nowait() == b"after"


def test_broadcast_and_martian_addresses_ignored():
    clock, link, a, b, sa, sb = pair()
    a.listen(80, lambda f: None)
    link.logging = True
    for src, dst in ((IP_B, 0xFFFFFFFF), (IP_B, 0xE0000001), (0, IP_A), (0xF0000001, IP_A)):
        a.input(src, dst, memoryview(w.build(src, dst, 1000, 80, 1, 0, w.SYN, 100)))
    link.run(seconds=0.01)
    assert sa["tcp_bad_addr"] == 4 and not a.flows and not link.log


def test_isn_keyed_and_spread():
    f = isn_function(b"0123456789abcdef")
    g = isn_function(b"0123456789abcdeF")
    x = f(1, 2, 3, 4)
    assert x == f(1, 2, 3, 4) and 0 <= x <= M
    assert x != g(1, 2, 3, 4)  # depends on the secret
    vals = set(f(1, 2, 3, p) for p in range(200))
    assert len(vals) == 200
    h = isn_fallback(b"0123456789abcdef")
    vals2 = set(h(1, 2, 3, p) for p in range(200))
    assert len(vals2) == 200 and h(1, 2, 3, 4) != isn_fallback(b"x123456789abcdef")(1, 2, 3, 4)
    try:
        isn_function(b"short")
        assert False
    except ValueError:
        pass


def test_isn_advances_with_clock():
    clock, link, a, b, sa, sb = pair()
    i1 = a._isn_for(IP_A, 80, IP_B, 1234)
    clock.t += 1.0
    i2 = a._isn_for(IP_A, 80, IP_B, 1234)
    assert (i2 - i1) & M == 250000  # the RFC 6528 4-microsecond timer
    assert a._isn_for(IP_A, 80, IP_B, 1235) != i2


def test_challenge_ack_budget_is_per_connection():
    # CVE-2016-5696: with one budget for all flows, an attacker's own connection could count
    # its challenge ACKs to learn whether spoofed RSTs hit someone else's window
    clock, link, a, b, sa, sb = pair(tcp={"challenge_acks_per_sec": 5})
    got = []
    a.listen(80, got.append)
    c1 = b.open(IP_A, 80)
    c2 = b.open(IP_A, 80)
    link.run(seconds=0.5)
    assert len(got) == 2
    for i in range(50):  # the "victim" flow is flooded with in-window RSTs
        _to_server(link, c1, 100 + i, flags=w.RST)
    link.run(seconds=0.01)
    assert sa["tcp_challenge_ack"] == 5 and sa["tcp_challenge_ack_limited"] == 45
    # the attacker's own flow still gets its full allowance in the same second
    for i in range(5):
        _to_server(link, c2, 100 + i, flags=w.RST)
    link.run(seconds=0.01)
    assert sa["tcp_challenge_ack"] == 10 and sa["tcp_challenge_ack_limited"] == 45
    assert all(f.state == tf.ESTABLISHED for f in got)
