# One memory budget for all connections: the charges add up, windows and send buffers
# shrink under pressure, new connections are refused (or make room by evicting TIME_WAIT
# entries and stalled flows) before anything could run out of memory.
from morgana.net import tcp_wire as w
from morgana.net import tcp_flow as tf
from morgana.net.tcp import TCP, default_budget, CPYTHON_BUDGET, MICROPYTHON
from test_tcp_simlink import Clock, Link, IP_A, IP_B, gc_collect, pattern

COST = 2048  # the same flow_cost on both Pythons, so the arithmetic below is exact


def two(a_opts=None, b_opts=None, **link_opts):
    """(clock, link, A, B): A the server under test, B the clients, own options each."""
    gc_collect()
    clock = Clock()
    link = Link(clock, 1, **link_opts)
    base = {"rcvbuf": 65536, "sndbuf": 32768, "flow_cost": COST}
    oa = dict(base)
    oa.update(a_opts or {})
    ob = dict(base)
    ob.update(b_opts or {"mem_budget": 32 << 20})
    a = TCP(link.output, IP_A, {}, b"secret-a-0123456", clock=clock, **oa)
    b = TCP(link.output, IP_B, {}, b"secret-b-0123456", clock=clock, **ob)
    link.attach(IP_A, a)
    link.attach(IP_B, b)
    return clock, link, a, b


def charges(tcp):
    return sum(f.mem for f in tcp.flows.values())


def test_default_budget_from_the_heap():
    b = default_budget()
    if MICROPYTHON:
        import gc
        gc.collect()
        assert 0 < b <= gc.mem_free() // 2 + 4096
    else:
        assert b == CPYTHON_BUDGET
    t = TCP(lambda *x: None, IP_A, {}, b"0123456789abcdef", clock=Clock())
    assert t.mem_budget > 0 and t.max_flows == t.mem_budget // t.mem_floor
    t = TCP(lambda *x: None, IP_A, {}, b"0123456789abcdef", clock=Clock(), mem_budget=300000)
    assert t.mem_budget == 300000
    try:
        TCP(lambda *x: None, IP_A, {}, b"0123456789abcdef", clock=Clock(), mem_budget=1000)
        assert False, "a budget too small for any connection must be refused"
    except ValueError:
        pass


def test_charges_add_up_and_return_to_zero():
    clock, link, a, b = two({"mem_budget": 4 << 20})
    got = []
    a.listen(80, got.append)
    fs = [b.open(IP_A, 80) for _ in range(5)]
    link.run(seconds=0.1)
    assert len(got) == 5
    floor = COST + 2 * a.mss
    assert a.mem_used == charges(a) and a.mem_used >= 5 * floor
    for f in fs:
        f.send_nowait(pattern(20000))
    link.run(seconds=0.5)
    assert a.mem_used == charges(a)
    assert sum(len(f.rcvbuf) for f in got) == 100000
    for sf in got:
        assert len(sf.recv_nowait()) == 20000
        sf.shutdown()
    for f in fs:
        f.shutdown()
    link.run(seconds=1)
    # the server closed first: its TIME_WAIT entries hold only the objects
    assert all(f.state == tf.TIME_WAIT for f in a.flows.values())
    assert a.mem_used == len(a.flows) * COST
    link.run(seconds=2 * a.msl + 1)
    assert a.mem_used == 0 and not a.flows and a.mem_max <= a.mem_budget
    assert b.mem_used == 0 and not b.flows


def test_windows_shrink_under_pressure_and_data_stays_exact():
    # 12 clients each push 200 KB while the server's app reads slowly: the receive
    # buffers share 300 KB, so windows shrink and what is beyond the budget is dropped
    budget = 300000
    clock, link, a, b = two({"mem_budget": budget})
    got = []
    a.listen(80, got.append)
    cs = [b.open(IP_A, 80) for _ in range(12)]
    link.run(seconds=0.1)
    assert len(got) == 12
    data = pattern(200000)
    sent = [0] * 12
    recv = [bytearray() for _ in range(12)]
    small = 65536
    for rnd in range(4000):
        for i, c in enumerate(cs):
            if sent[i] < len(data):
                sent[i] += c.send_nowait(memoryview(data)[sent[i]:])
        link.run(seconds=0.01)
        assert a.mem_used <= budget and a.mem_used == charges(a)
        assert sum(len(f.rcvbuf) + f.ooo_bytes for f in got) <= budget
        small = min(small, min(f.rcv_max for f in got))
        if rnd % 3 == 0:  # the app reads a little now and then
            for i, f in enumerate(got):
                d = f.recv_nowait(3000)
                if d:
                    recv[i] += d
        if all(len(r) == len(data) for r in recv):
            break
    assert all(bytes(r) == data for r in recv)
    assert small < 65536 // 4 and a.stats.get("tcp_rcv_shrunk", 0) > 0
    assert a.mem_max <= budget


def test_send_buffers_bounded_by_the_budget():
    # the server's app writes 1 MB to each of 10 clients that read nothing
    budget = 200000
    clock, link, a, b = two({"mem_budget": budget, "sndbuf": 131072})
    got = []
    a.listen(80, got.append)
    cs = [b.open(IP_A, 80) for _ in range(10)]
    link.run(seconds=0.1)
    big = bytes(1 << 20)
    for rnd in range(50):
        for f in got:
            f.send_nowait(big)
        link.run(seconds=0.05)
        assert a.mem_used <= budget
    held = sum(len(f.sndbuf) for f in got)
    assert held <= budget and all(f.send_space() >= 0 for f in got)
    # each flow can still queue at least its prepaid MSS once its buffer drains
    for c in cs:
        while c.recv_nowait():
            pass
    link.run(seconds=2)
    assert all(f.state == tf.ESTABLISHED for f in got)


def filled(extra=0, budget=60000):
    """A server whose budget holds `fit` connections, and fit + extra clients that
    connected to it: (clock, link, a, b, fit, server flows, client flows)."""
    clock, link, a, b = two({"mem_budget": budget})
    fit = a.mem_budget // a.mem_floor
    got = []
    a.listen(80, got.append)
    cs = [b.open(IP_A, 80) for _ in range(fit + extra)]
    link.run(seconds=0.5)
    return clock, link, a, b, fit, got, cs


def test_full_budget_refuses_new_connections_then_lets_them_in():
    clock, link, a, b, fit, got, cs = filled(6)
    assert len(got) == fit and a.stats["tcp_syn_drop_memory"] >= 6
    assert a.mem_used <= a.mem_budget
    # the app aborts its connections; the refused clients' SYN retries now get in
    for f in got:
        f.abort()
    del got[:]
    link.run(seconds=5)
    assert len(got) == 6
    assert sum(1 for c in cs if c.state == tf.ESTABLISHED) == 6


def test_time_wait_entries_make_room_for_new_connections():
    clock, link, a, b, fit, got, cs = filled()
    for f in got:
        f.shutdown()  # the server closes first: TIME_WAIT on the server
    for c in cs:
        c.shutdown()
    link.run(seconds=0.5)
    tw = len(a.time_wait)
    assert tw == fit
    # TIME_WAITs are cheap, but they count: fill the rest of the budget with clients
    more = [b.open(IP_A, 80) for _ in range(fit)]
    link.run(seconds=0.5)
    assert sum(1 for c in more if c.state == tf.ESTABLISHED) == fit
    assert a.stats.get("tcp_time_wait_evicted", 0) > 0 and a.mem_used <= a.mem_budget


def _silent_zero_window_clients(clock, link, a, b, n=None, data=30000):
    # clients that take the server's first bytes, then shut their window and go silent;
    # n of them, or (n None) as many as the server admits
    got = []
    a.listen(80, got.append)
    cs = []
    while n is None or len(cs) < n:
        c = b.open(IP_A, 80)
        link.run(seconds=0.2)
        if c.state != tf.ESTABLISHED:
            c.abort()  # refused: the server is full
            break
        cs.append(c)
        got[-1].send_nowait(pattern(data))  # more than the clients' windows
        link.run(seconds=0.2)
    link.run(seconds=0.5)
    assert any(f.snd_wnd == 0 for f in got)
    ports = set(c.lport for c in cs)
    link.drop_fn = lambda src, s: src == IP_B and s.sport in ports
    return got, cs


def test_silent_zero_window_peers_are_reset_after_the_persist_timeout():
    clock, link, a, b = two({"mem_budget": 1 << 20}, {"rcvbuf": 8192, "mem_budget": 1 << 20})
    got, cs = _silent_zero_window_clients(clock, link, a, b, 5)
    assert all(f.snd_wnd == 0 for f in got)
    t0 = clock.t
    link.run(seconds=tf.PERSIST_TIMEOUT - 5)
    assert all(f.state == tf.ESTABLISHED for f in got)
    link.run(seconds=10)
    assert all(f.state == tf.CLOSED and f.error == tf.ETIMEDOUT for f in got)
    assert a.stats["tcp_persist_timeout"] == 5 and not a.flows and a.mem_used == 0
    assert clock.t - t0 <= tf.PERSIST_TIMEOUT + 5


def test_answered_zero_window_is_kept_but_not_for_an_orphan():
    clock, link, a, b = two({"mem_budget": 1 << 20}, {"rcvbuf": 8192, "mem_budget": 1 << 20})
    got = []
    a.listen(80, got.append)
    c1 = b.open(IP_A, 80)
    c2 = b.open(IP_A, 80)
    link.run(seconds=0.2)
    for f in got:
        f.send_nowait(pattern(30000))
    link.run(seconds=0.5)
    got[1].orphan()  # its app is done; the client still never reads
    link.run(seconds=tf.ORPHAN_ZW_TIMEOUT + 5)
    assert got[0].state == tf.ESTABLISHED  # a slow reader that answers keeps its flow
    assert got[1].state == tf.CLOSED and a.stats["tcp_orphan_zw_timeout"] == 1
    link.run(seconds=300)
    assert got[0].state == tf.ESTABLISHED
    assert len(c1.rcvbuf) == 8192


def test_stalled_flows_are_evicted_for_new_clients_when_memory_is_short():
    clock, link, a, b = two({"mem_budget": 150000}, {"rcvbuf": 4096, "mem_budget": 1 << 20})
    got, cs = _silent_zero_window_clients(clock, link, a, b)
    fit = len(got)
    assert fit >= 4 and a.stats["tcp_syn_drop_memory"] >= 1
    assert a.mem_used > a.mem_budget - a.mem_floor  # no room left
    link.run(seconds=tf.RECLAIM_IDLE + 1)
    fresh = [b.open(IP_A, 80) for _ in range(3)]
    link.run(seconds=0.5)
    assert all(c.state == tf.ESTABLISHED for c in fresh)
    assert a.stats["tcp_evicted_stalled"] >= 1 and a.mem_used <= a.mem_budget
    # the victims were silent zero-window flows, never the healthy ones
    gone = [f for f in got[:fit] if f.state == tf.CLOSED]
    assert len(gone) == a.stats["tcp_evicted_stalled"]
    assert all(f.zw_since is not None and f.probe_out for f in gone)
    # they are served: data goes both ways
    news = got[fit:]
    assert len(news) == 3
    news[0].send_nowait(b"hello")
    link.run(seconds=0.2)
    assert fresh[0].recv_nowait() == b"hello"


def test_progressing_flows_are_never_evicted():
    clock, link, a, b, fit, got, cs = filled()
    link.run(seconds=5)
    late = b.open(IP_A, 80)
    link.run(seconds=0.5)
    # idle but healthy connections stay; the newcomer waits for room (its SYN retries)
    assert late.state == tf.SYN_SENT and "tcp_evicted_stalled" not in a.stats
    assert all(f.state == tf.ESTABLISHED for f in got)


def test_orphan_gets_fewer_retries_and_drops_late_data():
    clock, link, a, b = two({"mem_budget": 1 << 20})
    got = []
    a.listen(80, got.append)
    c = b.open(IP_A, 80)
    link.run(seconds=0.2)
    sf = got[0]
    sf.send_nowait(b"bye")
    sf.orphan()
    link.run(seconds=0.2)
    assert sf.state == tf.FIN_WAIT_2 and c.recv_nowait() == b"bye"
    c.send_nowait(pattern(5000))  # nobody will read it: acked and dropped
    link.run(seconds=0.2)
    assert not sf.rcvbuf and a.stats["tcp_orphan_data"] >= 1
    assert c.snd_una == c.snd_max
    # an orphan's FIN_WAIT_2 is not kept alive by the peer's traffic
    t0 = clock.t
    while sf.state != tf.CLOSED and clock.t - t0 < 200:
        c.send_nowait(b"x")
        link.run(seconds=5)
    assert sf.state == tf.CLOSED and clock.t - t0 <= tf.FIN_WAIT_2_TIMEOUT + 5


def test_send_buffer_returned_when_all_acked():
    clock, link, a, b = two({"mem_budget": 1 << 20})
    got = []
    a.listen(80, got.append)
    c = b.open(IP_A, 80)
    link.run(seconds=0.2)
    c.send_nowait(pattern(30000))
    link.run(seconds=1)
    assert c.snd_una == c.snd_max and len(c.sndbuf) == 0 and c.sb_off == 0
    assert len(got[0].recv_nowait()) == 30000
