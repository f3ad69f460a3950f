# Timers on the fake clock: RFC 6298 estimation and backoff, giving up, zero-window
# probes, keep-alive.
from morgana.net import tcp_flow as tf
from morgana.net.tcp_rto import RTO, MIN_RTO, MAX_RTO
from test_tcp_simlink import connected, IP_A, IP_B


def test_rto_estimator_rfc6298():
    r = RTO(min_rto=0.0)
    assert r.value() == 1.0  # initial RTO
    r.sample(0.1)
    assert abs(r.srtt - 0.1) < 1e-9 and abs(r.rttvar - 0.05) < 1e-9
    assert abs(r.value() - 0.3) < 1e-9  # srtt + 4 * rttvar
    r.sample(0.2)
    assert abs(r.rttvar - (0.75 * 0.05 + 0.25 * 0.1)) < 1e-9
    assert abs(r.srtt - (0.875 * 0.1 + 0.125 * 0.2)) < 1e-9
    r2 = RTO()
    r2.sample(0.001)
    assert r2.value() == MIN_RTO
    for _ in range(30):
        r2.timeout()
    assert r2.value() == MAX_RTO


def test_rtt_measured_from_the_link():
    clock, link, a, b, cf, sf = connected(delay=0.05)
    cf.send_nowait(b"a" * 2920)
    link.run(seconds=1)
    assert cf.rto.srtt is not None
    assert 0.09 <= cf.rto.srtt <= 0.15  # 100 ms RTT (+ at most a delayed ACK)


def test_rto_backoff_doubles_then_gives_up():
    clock, link, a, b, cf, sf = connected(delay=0.001)
    times = []

    def blackhole(src, s):
        if src == IP_B and len(s.data):
            times.append(clock.t)
        return True
    link.drop_fn = blackhole
    cf.send_nowait(b"q" * 100)
    link.run(seconds=2000)
    # one tail loss probe (2 SRTT after the send) comes before the RTO series
    assert b.stats["tcp_tlp"] == 1
    assert times[1] - times[0] < 0.1
    del times[1]
    gaps = [times[i + 1] - times[i] for i in range(len(times) - 1)]
    assert len(times) == 1 + tf.MAX_RETRIES
    assert abs(gaps[1] - 2 * MIN_RTO) < 1e-6  # the 200 ms floor, doubled
    for i in range(2, len(gaps)):
        assert abs(gaps[i] - min(2 * gaps[i - 1], 60.0)) < 1e-6, gaps
    assert cf.state == tf.CLOSED and cf.error == tf.ETIMEDOUT
    assert b.stats["tcp_timeout"] == 1


def test_rto_retransmission_recovers_after_outage():
    clock, link, a, b, cf, sf = connected(delay=0.001)
    outage = [True]
    link.drop_fn = lambda src, s: outage[0]
    cf.send_nowait(b"hello")
    link.run(seconds=3)
    assert b.stats["tcp_rto"] >= 2
    outage[0] = False
    link.run(seconds=10)
    assert sf.recv_nowait() == b"hello"
    assert cf.snd_una == cf.snd_max and cf.rto.backoff == 0


def test_zero_window_probe_and_reopen():
    clock, link, a, b, cf, sf = connected(delay=0.001, tcp={"rcvbuf": 8192})
    link.logging = True
    data = b"w" * 50000
    off = cf.send_nowait(data)
    link.run(seconds=1)
    assert cf.snd_wnd == 0 and len(sf.rcvbuf) >= 8192
    del link.log[:]
    link.run(seconds=30)
    probes = [s for src, s in link.log if src == IP_B and not len(s.data)]
    assert len(probes) >= 3 and b.stats["tcp_window_probe"] >= 3
    assert cf.state == tf.ESTABLISHED  # a peer that answers probes is never dropped
    # the application drains; the window update is lost, the next probe finds the window
    link.drop_fn = lambda src, s: src == IP_A and s.wnd > 0 and not link.log.append(0)
    got = bytearray(sf.recv_nowait())
    link.drop_fn = None
    while len(got) < len(data):
        if off < len(data):
            off += cf.send_nowait(memoryview(data)[off:])
        link.run(seconds=1)
        got += sf.recv_nowait() or b""
    assert bytes(got) == data


def test_persist_intervals_back_off():
    clock, link, a, b, cf, sf = connected(delay=0.001, tcp={"rcvbuf": 4096})
    cf.send_nowait(b"p" * 20000)
    link.run(seconds=1)
    times = []
    link.drop_fn = lambda src, s: bool(src == IP_B and not len(s.data)
                                       and times.append(clock.t))  # log, never drop
    link.run(seconds=300)
    gaps = [times[i + 1] - times[i] for i in range(len(times) - 1)]
    assert len(gaps) >= 4
    assert gaps[1] > gaps[0] and gaps[2] > gaps[1]
    assert max(gaps) <= tf.MAX_PERSIST + 1e-5


def test_keepalive_probes_idle_peer_and_survives():
    clock, link, a, b, cf, sf = connected(delay=0.001)
    cf.set_keepalive(10.0, 2.0, 3)
    link.logging = True
    link.run(seconds=35)
    probes = [s for src, s in link.log if src == IP_B and s.seq == (cf.snd_nxt - 1) & 0xFFFFFFFF]
    assert len(probes) == 3  # one per idle period: the peer answers each
    assert b.stats["tcp_keepalive_probe"] == 3
    assert cf.state == tf.ESTABLISHED


def test_keepalive_detects_dead_peer():
    clock, link, a, b, cf, sf = connected(delay=0.001)
    cf.set_keepalive(10.0, 2.0, 3)
    link.drop_fn = lambda src, s: True  # the peer vanished
    link.run(seconds=10 + 3 * 2.0 + 1)
    assert cf.state == tf.CLOSED and cf.error == tf.ETIMEDOUT
    assert b.stats["tcp_keepalive_probe"] == 3 and b.stats["tcp_keepalive_timeout"] == 1


def test_keepalive_default_from_stack():
    clock, link, a, b, cf, sf = connected(delay=0.001, tcp={"keepalive": (5.0, 1.0, 2)})
    link.drop_fn = lambda src, s: True
    link.run(seconds=9)
    assert cf.state == tf.CLOSED and sf.state == tf.CLOSED


def test_timers_idle_when_nothing_to_do():
    clock, link, a, b, cf, sf = connected(delay=0.001)
    link.run(seconds=1)
    assert a.next_deadline() is None and b.next_deadline() is None
    cf.send_nowait(b"x")
    assert b.next_deadline() is not None  # retransmission timer armed
    link.run(seconds=1)
    assert b.next_deadline() is None


def test_fin_wait_2_lasts_while_the_peer_talks():
    # half-closed, the app still reading: only a silent peer is given up on
    clock, link, a, b, cf, sf = connected(delay=0.001)
    cf.shutdown()
    link.run(seconds=0.1)
    assert cf.state == tf.FIN_WAIT_2
    got = bytearray()
    for i in range(5):
        link.run(seconds=tf.FIN_WAIT_2_TIMEOUT - 20)
        sf.send_nowait(b"more %d" % i)
        link.run(seconds=0.1)
        got += cf.recv_nowait() or b""
    assert cf.state == tf.FIN_WAIT_2 and got == b"more 0more 1more 2more 3more 4"
    t0 = clock.t
    link.run(seconds=tf.FIN_WAIT_2_TIMEOUT + 1)
    assert cf.state == tf.CLOSED and clock.t - t0 <= tf.FIN_WAIT_2_TIMEOUT + 1


def test_silent_peer_with_unacked_data_times_out_sooner_for_an_orphan():
    clock, link, a, b, cf, sf = connected(delay=0.001)
    link.drop_fn = lambda src, s: src == IP_A  # the client is gone
    sf.send_nowait(b"q" * 100)
    sf.orphan()
    t0 = clock.t
    while sf.state != tf.CLOSED and clock.t - t0 < 2000:
        link.run(seconds=1)
    assert sf.state == tf.CLOSED and sf.error == tf.ETIMEDOUT
    assert a.stats["tcp_timeout"] == 1 and sf.retries == tf.ORPHAN_RETRIES + 1
    assert clock.t - t0 < 150  # 12 retries would take ~280 s


def test_timer_heap_touches_only_due_flows():
    # many idle flows, one busy: a tick runs only the flow whose timer is due
    clock, link, a, b, cf, sf = connected(delay=0.001)
    for i in range(200):
        b.open(IP_A, 9, lport=20000 + i)  # refused: gone after the RST
    link.run(seconds=1)
    calls = []
    orig = tf.Flow.on_timer

    def spy(self, now):
        calls.append(self)
        return orig(self, now)
    tf.Flow.on_timer = spy
    try:
        cf.send_nowait(b"x" * 3000)
        link.run(seconds=1)
    finally:
        tf.Flow.on_timer = orig
    assert calls and all(f is cf or f is sf for f in calls)
    assert len(b._timers) <= 2 * len(b.flows) + 64


def test_orphan_with_a_slow_rto_still_gives_up_in_time():
    # no RTT sample (a SYN-cookie flow, or one whose SYN-ACK was retransmitted): RTOs start
    # at 1 s, so 8 retries would take ~4 minutes; the orphan's silence limit is time-based
    clock, link, a, b, cf, sf = connected(delay=0.001)
    link.drop_fn = lambda src, s: src == IP_A
    sf.rto.srtt = None
    sf.rto.backoff = 0
    sf.send_nowait(b"q" * 100)
    sf.orphan()
    t0 = clock.t
    heard = sf.last_rx  # the peer's last segment: its silence is what counts
    while sf.state != tf.CLOSED and clock.t - t0 < 1000:
        link.run(seconds=1)
    assert sf.state == tf.CLOSED and sf.error == tf.ETIMEDOUT
    assert tf.ORPHAN_SILENCE - 1 <= clock.t - heard <= tf.ORPHAN_SILENCE + 2
