# Data transfer through the simulated link: clean and lossy (loss, duplication,
# reordering), both directions, window scaling, delayed ACKs, fast retransmit.
from morgana.net import tcp_wire as w
from morgana.net import tcp_flow as tf
from test_tcp_simlink import connected, pattern, transfer, IP_A, IP_B

from test_tcp_simlink import gc_collect

SIZE = 60000  # small enough for MicroPython's shared default heap


def test_clean_bulk_transfer_and_eof():
    clock, link, a, b, cf, sf = connected()
    data = pattern(SIZE)
    got = transfer(link, cf, sf, data)
    assert got == data
    link.run(seconds=0.1)  # the ACK of the FIN is still on the wire
    assert sf.state == tf.CLOSE_WAIT and cf.state == tf.FIN_WAIT_2
    assert b.stats.get("tcp_rexmt", 0) == 0


def test_lossy_links_still_deliver_exact_bytes():
    for seed in (1, 2, 3, 4):
        clock, link, a, b, cf, sf = connected(seed=seed, loss=0.05, dup=0.05, reorder=0.1)
        data = pattern(SIZE, seed)
        gc_collect()
        got = transfer(link, cf, sf, data)
        assert got == data, (seed, len(got))
        assert b.stats["tcp_rexmt"] > 0  # losses really happened and were repaired
        assert a.stats["tcp_ooo"] > 0


def test_heavy_loss_both_directions():
    clock, link, a, b, cf, sf = connected(seed=9, loss=0.15, dup=0.1, reorder=0.3)
    up = pattern(30000, 1)
    down = pattern(40000, 2)
    got_up = transfer(link, cf, sf, up, close=False)
    got_down = transfer(link, sf, cf, down, close=False)
    assert got_up == up and got_down == down


def test_window_scaling_allows_large_flight():
    clock, link, a, b, cf, sf = connected(delay=0.05, tcp={"rcvbuf": 131072, "sndbuf": 98304})  # 100 ms RTT
    assert cf.snd_ws > 0
    block = pattern(65536)
    total = 8 * len(block)  # the same block repeated keeps memory flat on MicroPython
    most = 0
    sent = got = 0
    while got < total:
        while sent < total:
            k = cf.send_nowait(memoryview(block)[sent % 65536:])
            if not k:
                break
            sent += k
        link.run(seconds=0.01)
        flight = (cf.snd_max - cf.snd_una) & 0xFFFFFFFF
        if flight > most:
            most = flight
        d = sf.recv_nowait() or b""
        while d:  # check every byte lands where the repeated block says
            o = got % 65536
            k = min(len(d), 65536 - o)
            assert d[:k] == block[o:o + k]
            got += k
            d = d[k:]
    assert got == total
    assert cf.max_snd_wnd > 65535
    assert most > 65535, most


def test_delayed_ack_timing():
    clock, link, a, b, cf, sf = connected()
    link.logging = True
    cf.send_nowait(b"x" * 100)
    t0 = clock.t
    link.run(seconds=0.5)
    acks = [s for src, s in link.log if src == IP_A and s.flags == w.ACK]
    assert len(acks) == 1
    # one small segment: the receiver waits DELACK before acking
    assert cf.snd_una == cf.snd_max
    assert sf.recv_nowait() == b"x" * 100
    del link.log[:]
    cf.send_nowait(b"y" * 2920)  # two full segments: acked at once, no timer
    link.run(seconds=0.02)
    acks = [s for src, s in link.log if src == IP_A and s.flags == w.ACK]
    assert len(acks) == 1 and cf.snd_una == cf.snd_max
    assert t0 < clock.t


def test_delayed_ack_waits_40ms():
    clock, link, a, b, cf, sf = connected(delay=0.001)
    seen = []
    link.drop_fn = lambda src, s: bool(src == IP_A and s.flags == w.ACK
                                       and seen.append(clock.t))  # log, never drop
    t0 = clock.t
    cf.send_nowait(b"z")
    link.run(seconds=1)
    assert len(seen) == 1
    assert abs(seen[0] - (t0 + 0.001 + tf.DELACK)) < 1e-6


def test_fast_retransmit_repairs_a_single_loss_before_rto():
    clock, link, a, b, cf, sf = connected(delay=0.01)
    state = {"n": 0, "dropped": None}

    def drop_fifth_data(src, s):
        if src == IP_B and len(s.data):
            state["n"] += 1
            if state["n"] == 5:
                state["dropped"] = clock.t
                return True
        return False
    link.drop_fn = drop_fifth_data
    data = pattern(50000)
    got = transfer(link, cf, sf, data, close=False)
    assert got == data
    assert b.stats["tcp_fast_rexmt"] == 1
    assert b.stats.get("tcp_rto", 0) == 0  # repaired without waiting for the timer


def test_receiver_trims_overlapping_and_old_segments():
    clock, link, a, b, cf, sf = connected()
    base = cf.snd_nxt
    # craft segments by hand: overlapping pieces, an old duplicate, a gap then the fill
    pieces = [(0, b"abcdef"), (3, b"defghi"), (12, b"mnop"), (0, b"abc"), (9, b"jklmn")]
    for off, d in pieces:
        seg = w.build(IP_B, IP_A, cf.lport, 80, (base + off) & 0xFFFFFFFF, cf.rcv_nxt,
                      w.ACK, 1000, b"", d)
        link.inject(IP_A, IP_B, seg)
        link.run(seconds=0.001)
    assert sf.recv_nowait() == b"abcdefghijklmnop"
    assert a.stats["tcp_ooo"] >= 1


def test_out_of_order_bare_fin_acks_are_well_formed():
    # regression (found by hypothesis): an out-of-order FIN without data left only an
    # empty run to SACK, and the ACK went out with a malformed, empty SACK option
    clock, link, a, b, cf, sf = connected()
    assert sf.sack_ok
    link.logging = True  # the link parses every segment sent: a bad option raises
    fin = w.build(IP_B, IP_A, cf.lport, 80, (cf.snd_nxt + 100) & 0xFFFFFFFF, cf.rcv_nxt,
                  w.ACK | w.FIN, 1000)
    link.inject(IP_A, IP_B, fin)
    link.run(seconds=0.01)
    acks = [s for src, s in link.log if src == IP_A]
    assert acks and acks[-1].sack is None and acks[-1].ack == sf.rcv_nxt
    assert len(sf.ooo) == 1 and a.stats["tcp_ooo"] == 1
