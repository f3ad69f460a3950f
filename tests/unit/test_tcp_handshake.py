# Opening and closing: three-way handshake, options, refused and timed-out connects,
# simultaneous open and close, TIME_WAIT, lost SYN-ACKs.
from morgana.net import tcp_wire as w
from morgana.net import tcp_flow as tf
from test_tcp_simlink import pair, connected, IP_A, IP_B


def test_three_way_handshake_negotiates_options():
    clock, link, a, b, sa, sb = pair(tcp={"mtu": 1500})
    link.logging = True
    got = []
    a.listen(80, got.append)
    cf = b.open(IP_A, 80)
    assert cf.state == tf.SYN_SENT
    link.run(seconds=1)
    assert len(got) == 1
    sf = got[0]
    assert cf.state == tf.ESTABLISHED and sf.state == tf.ESTABLISHED
    flags = [s.flags for _, s in link.log]
    assert flags[:3] == [w.SYN, w.SYN | w.ACK, w.ACK]
    assert link.log[0][1].mss == 1460 and link.log[0][1].wscale == a.rcv_ws
    assert cf.mss == 1460 and sf.mss == 1460
    assert a.rcv_ws >= 1  # a 64 KiB buffer already needs a shift
    assert cf.snd_ws == a.rcv_ws and sf.snd_ws == b.rcv_ws
    assert sf.peer == ("10.0.0.2", cf.lport)
    assert cf.peer == ("10.0.0.1", 80)
    assert a.half_open == 0 and sa["tcp_accepted"] == 1


def test_mss_follows_smaller_mtu_and_peer_without_wscale():
    clock, link, a, b, sa, sb = pair()
    small = type(a)(link.output, 0x0A000003, {}, b"other-secret-123", mtu=576, clock=clock)
    link.attach(0x0A000003, small)
    got = []
    a.listen(80, got.append)
    f = small.open(IP_A, 80)
    link.run(seconds=1)
    assert got[0].mss == 536 and f.mss == 536
    # a SYN without window scaling: neither side may scale
    got2 = []
    b.listen(81, got2.append)
    syn = w.build(0x0A000009, IP_B, 999, 81, 1000, 0, w.SYN, 4000, w.syn_options(1000, None))
    link.inject(IP_B, 0x0A000009, syn)
    link.run(seconds=0.1)
    flow = b.flows[(0x0A000009, 999, 81)]
    assert flow.snd_ws == 0 and flow.rcv_ws == 0 and flow.mss == 1000


def test_connect_refused_by_rst():
    clock, link, a, b, sa, sb = pair()
    f = b.open(IP_A, 81)  # nobody listens
    link.run(seconds=1)
    assert f.state == tf.CLOSED and f.error == tf.ECONNREFUSED
    assert sa["tcp_rst_out"] == 1 and not b.flows


def test_syn_retransmits_with_backoff_then_times_out():
    clock, link, a, b, sa, sb = pair()
    link.logging = True
    link.drop_fn = lambda src, s: True  # black hole
    f = b.open(IP_A, 80)
    link.run(seconds=200)
    syns = [s for src, s in link.log if s.flags == w.SYN]
    assert len(syns) == 1 + tf.MAX_SYN_RETRIES
    assert f.state == tf.CLOSED and f.error == tf.ETIMEDOUT
    assert sb["tcp_syn_timeout"] == 1 and not b.flows


def test_syn_retransmit_intervals_double():
    clock, link, a, b, sa, sb = pair()
    sent = []
    link.drop_fn = lambda src, s: sent.append(clock.t) or True
    b.open(IP_A, 80)
    link.run(seconds=100)
    gaps = [round(sent[i + 1] - sent[i], 3) for i in range(len(sent) - 1)]
    assert gaps == [1.0, 2.0, 4.0, 8.0, 16.0], gaps


def test_lost_syn_ack_is_repeated():
    clock, link, a, b, sa, sb = pair()
    got = []
    a.listen(80, got.append)
    lost = [0]

    def drop_first_synack(src, s):
        if s.flags == w.SYN | w.ACK and lost[0] < 2:
            lost[0] += 1
            return True
        return False
    link.drop_fn = drop_first_synack
    f = b.open(IP_A, 80)
    link.run(seconds=10)
    assert lost[0] == 2
    assert f.state == tf.ESTABLISHED and got and got[0].state == tf.ESTABLISHED


def test_active_close_goes_through_time_wait():
    clock, link, a, b, cf, sf = connected()
    cf.shutdown()
    assert cf.state == tf.FIN_WAIT_1
    link.run(seconds=0.1)
    assert cf.state == tf.FIN_WAIT_2 and sf.state == tf.CLOSE_WAIT
    assert sf.recv_nowait() == b""  # EOF seen by the server
    sf.shutdown()
    assert sf.state == tf.LAST_ACK
    link.run(seconds=0.1)
    assert sf.state == tf.CLOSED and cf.state == tf.TIME_WAIT
    assert not a.flows and cf.key in b.time_wait
    link.run(seconds=2 * b.msl - 1)
    assert cf.state == tf.TIME_WAIT
    link.run(seconds=2)
    assert cf.state == tf.CLOSED and not b.flows and not b.time_wait


def test_time_wait_reacks_retransmitted_fin():
    clock, link, a, b, cf, sf = connected()
    cf.shutdown()
    link.run(seconds=0.1)
    # the client's last ACK is lost: the server repeats its FIN and must be acked again
    dropped = []

    def drop_last_ack(src, s):
        if src == IP_B and s.flags == w.ACK and not dropped:
            dropped.append(s)
            return True
        return False
    link.drop_fn = drop_last_ack
    sf.shutdown()
    link.run(seconds=0.05)
    assert dropped and cf.state == tf.TIME_WAIT and sf.state == tf.LAST_ACK
    link.run(seconds=5)
    assert sf.state == tf.CLOSED and cf.state == tf.TIME_WAIT


def test_simultaneous_close():
    clock, link, a, b, cf, sf = connected()
    link.logging = True
    cf.shutdown()
    sf.shutdown()  # both FINs cross on the wire
    link.run(seconds=0.001)
    link.run(seconds=0.1)
    fins = [s for _, s in link.log if s.flags & w.FIN]
    assert len(fins) == 2
    assert cf.state == tf.TIME_WAIT and sf.state == tf.TIME_WAIT
    link.run(seconds=2 * a.msl + 1)
    assert not a.flows and not b.flows


def test_simultaneous_open():
    clock, link, a, b, sa, sb = pair()
    fa = a.open(IP_B, 5000, lport=6000)
    fb = b.open(IP_A, 6000, lport=5000)
    link.run(seconds=2)
    assert fa.state == tf.ESTABLISHED and fb.state == tf.ESTABLISHED
    assert fa.snd_una == (fa.iss + 1) & 0xFFFFFFFF and fa.rcv_nxt == (fb.iss + 1) & 0xFFFFFFFF
    fa.send_nowait(b"ping")
    link.run(seconds=1)
    assert fb.recv_nowait() == b"ping"


def test_new_syn_may_reuse_time_wait_pair():
    clock, link, a, b, cf, sf = connected()
    sf.shutdown()  # the server closes first, so the server holds TIME_WAIT
    link.run(seconds=0.1)
    cf.shutdown()
    link.run(seconds=0.1)
    assert sf.state == tf.TIME_WAIT and cf.state == tf.CLOSED
    got = []
    a.unlisten(80)
    a.listen(80, got.append)
    f = b.open(IP_A, 80, lport=cf.lport)  # same 4-tuple, later ISN
    link.run(seconds=1)
    assert f.state == tf.ESTABLISHED and len(got) == 1
    assert got[0] is not sf and got[0].state == tf.ESTABLISHED


def test_fin_wait_2_gives_up():
    clock, link, a, b, cf, sf = connected()
    cf.shutdown()
    link.run(seconds=0.1)
    assert cf.state == tf.FIN_WAIT_2
    link.run(seconds=tf.FIN_WAIT_2_TIMEOUT + 1)
    assert cf.state == tf.CLOSED and not b.flows
    assert sf.state == tf.CLOSE_WAIT  # the peer never closed: it keeps its half


def test_abort_sends_rst():
    clock, link, a, b, cf, sf = connected()
    cf.abort()
    link.run(seconds=0.1)
    assert cf.state == tf.CLOSED and sf.state == tf.CLOSED
    assert sf.error == tf.ECONNRESET
    try:
        sf.recv_nowait()
        assert False, "read after reset must raise"
    except OSError as e:
        assert e.args[0] == tf.ECONNRESET
