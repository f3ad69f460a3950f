# Property tests for TCP: the parser only ever raises Drop, build/parse round-trips, option
# parsing on arbitrary bytes, and random segment sequences never crash the state machine
# (and leave it consistent).
from hypothesis import given, settings, strategies as st, HealthCheck

from morgana.net import Drop
from morgana.net import tcp_wire as w
from morgana.net import tcp_flow as tf
from morgana.net.checksum import csum, pseudo_header_sum
from morgana.net.tcp import TCP

SRC = 0x0A000002
DST = 0x0A000001
u32 = st.integers(0, 0xFFFFFFFF)
u16 = st.integers(0, 0xFFFF)
port = st.integers(1, 0xFFFF)


def fix_csum(seg, src=SRC, dst=DST):
    seg = bytearray(seg)
    if len(seg) >= 18:
        seg[16] = seg[17] = 0
        c = ~csum(seg, pseudo_header_sum(src, dst, 6, len(seg))) & 0xFFFF
        seg[16] = c >> 8
        seg[17] = c & 255
    return bytes(seg)


@given(st.binary(max_size=200))
def test_parse_random_bytes_only_drops(buf):
    for b in (buf, fix_csum(buf)):
        try:
            s = w.parse(SRC, DST, b)
        except Drop as e:
            assert e.reason.startswith("tcp_")
            continue
        assert 20 <= len(b) and len(s.data) <= len(b) - 20


@given(st.binary(max_size=40))
def test_options_random_bytes_only_drop(opts):
    seg = w.Segment(1, 2, 0, 0, 0, 0, b"")
    try:
        w.parse_options(seg, opts)
    except Drop as e:
        assert e.reason == "tcp_bad_option"
        return
    assert seg.mss is None or 0 <= seg.mss <= 0xFFFF
    assert seg.wscale is None or 0 <= seg.wscale <= w.MAX_WSCALE
    assert seg.sack is None or all(0 <= a <= 0xFFFFFFFF for blk in seg.sack for a in blk)


@given(port, port, u32, u32, st.integers(0, 0x3F), u16, st.binary(max_size=1500),
       st.one_of(st.none(), st.integers(0, 0xFFFF)), st.one_of(st.none(), st.integers(0, 14)),
       st.booleans())
def test_build_parse_roundtrip(sp, dp, seq, ack, flags, wnd, data, mss, ws, sack_ok):
    opts = w.syn_options(mss, ws, sack_ok) if mss is not None else b""
    seg = w.build(SRC, DST, sp, dp, seq, ack, flags, wnd, opts, data)
    s = w.parse(SRC, DST, seg)
    assert (s.sport, s.dport, s.seq, s.ack, s.flags, s.wnd) == (sp, dp, seq, ack, flags, wnd)
    assert bytes(s.data) == data
    if mss is not None:
        assert s.mss == mss and s.wscale == ws and s.sack_ok == sack_ok


@given(st.lists(st.tuples(u32, u32), min_size=1, max_size=4))
def test_sack_option_roundtrip(blocks):
    seg = w.build(SRC, DST, 1, 2, 3, 4, w.ACK, 5, w.sack_option(blocks))
    assert w.parse(SRC, DST, seg).sack == blocks


@given(st.binary(min_size=20, max_size=80), st.integers(0, 79), st.integers(0, 255))
def test_single_byte_corruption_never_raises_other_errors(buf, pos, val):
    b = bytearray(fix_csum(buf))
    b[pos % len(b)] = val
    try:
        w.parse(SRC, DST, bytes(b))
    except Drop:
        pass


# --- the state machine under random input ------------------------------------------------

class Clock:
    t = 100.0

    def __call__(self):
        return self.t


def _fresh():
    clock = Clock()
    out = []
    stats = {}
    tcp = TCP(lambda proto, dst, seg, src: out.append(bytes(seg)), DST, stats,
              b"property-secret!", clock=clock, rcvbuf=16384, sndbuf=16384,
              max_half_open=8, max_flows=16)
    tcp.listen(80, lambda f: f.send_nowait(b"hello" * 100))
    return clock, tcp, out, stats


seg_strategy = st.tuples(
    st.sampled_from([1234, 1235, 80]),                 # sport
    st.sampled_from([80, 81]),                         # dport
    st.one_of(u32, st.integers(0, 3000)),              # seq (absolute or small offset)
    st.one_of(u32, st.integers(0, 3000)),              # ack
    st.integers(0, 0x3F),                              # flags
    u16,
    st.binary(max_size=300),
    st.one_of(st.none(), st.binary(max_size=40)),      # raw options
    st.floats(0, 5),                                   # time step
    st.booleans(),                                     # relative to the flow's numbers?
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(seg_strategy, max_size=40))
def test_random_segments_never_crash_the_machine(segs):
    clock, tcp, out, stats = _fresh()
    for sport, dport, seq, ack, flags, wnd, data, opts, dt, rel in segs:
        f = tcp.flows.get((SRC, sport, dport))
        if rel and f is not None:
            seq = (f.rcv_nxt + seq - 1500) & 0xFFFFFFFF
            ack = (f.snd_una + ack - 1500) & 0xFFFFFFFF
        if opts is not None:
            opts = opts + bytes(-len(opts) % 4)
        else:
            opts = b""
        seg = w.build(SRC, DST, sport, dport, seq, ack, flags, wnd, opts, data)
        tcp.input(SRC, DST, memoryview(seg))
        clock.t += dt
        tcp.tick()
        for fl in list(tcp.flows.values()):
            # invariants that must survive anything the network throws at us
            assert fl.state != tf.CLOSED
            assert tf.le(fl.snd_una, fl.snd_nxt) and tf.le(fl.snd_nxt, fl.snd_max)
            assert len(fl.rcvbuf) <= fl.rcv_max + (1 << fl.rcv_ws)
            assert fl.ooo_bytes <= fl.rcv_max and len(fl.ooo) <= tf.MAX_OOO
            assert fl.cwnd <= tf.CWND_MAX
        assert tcp.half_open <= 8 and len(tcp.flows) <= 16
    for o in out:  # everything we sent is a well-formed segment
        w.parse(DST, SRC, o)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4000), st.integers(1, 600), st.booleans()),
                max_size=60))
def test_any_arrival_order_reassembles_exactly(pieces):
    # deliver slices of a stream in any order with duplicates/overlaps: the reader gets
    # exactly the prefix that has been covered, byte for byte
    clock, tcp, out, stats = _fresh()
    got = []
    tcp.unlisten(80)
    tcp.listen(80, got.append)
    syn = w.build(SRC, DST, 5555, 80, 1000, 0, w.SYN, 65535, w.syn_options(1460, 2, True))
    tcp.input(SRC, DST, memoryview(syn))
    synack = w.parse(DST, SRC, out[-1])
    ack = w.build(SRC, DST, 5555, 80, 1001, synack.seq + 1, w.ACK, 65535)
    tcp.input(SRC, DST, memoryview(ack))
    f = got[0]
    stream = bytes((i * 7 + 3) & 255 for i in range(5000))
    covered = bytearray(5000)
    for off, n, _ in pieces:
        d = stream[off:off + n]
        seg = w.build(SRC, DST, 5555, 80, 1001 + off, synack.seq + 1, w.ACK, 65535, b"", d)
        tcp.input(SRC, DST, memoryview(seg))
        for i in range(off, min(off + n, 5000)):
            covered[i] = 1
        clock.t += 0.01
        tcp.tick()
    data = f.recv_nowait() or b""
    prefix = 0
    while prefix < 5000 and covered[prefix]:
        prefix += 1
    # 5000 bytes fit the 16 KiB window and at most 60 pieces fit the out-of-order queue,
    # so exactly the covered prefix arrives
    assert data == stream[:prefix]


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 10 ** 6), st.floats(0, 0.2), st.floats(0, 0.2), st.floats(0, 0.5),
       st.integers(1, 60000), st.sampled_from([0.0002, 0.005, 0.05]))
def test_any_lossy_link_delivers_exact_bytes(seed, loss, dup, reorder, n, delay):
    from test_tcp_simlink import connected, pattern, transfer  # tests/unit is on the path
    clock, link, a, b, cf, sf = connected(seed=seed, loss=loss, dup=dup, reorder=reorder,
                                          delay=delay)
    data = pattern(n, seed)
    got = transfer(link, cf, sf, data, limit=3000.0)
    assert got == data
    assert cf.state in (tf.FIN_WAIT_1, tf.FIN_WAIT_2, tf.TIME_WAIT)


@given(st.lists(st.floats(0.0001, 5.0), min_size=1, max_size=50), st.integers(0, 20))
def test_rto_stays_within_bounds(samples, timeouts):
    from morgana.net.tcp_rto import RTO, MIN_RTO, MAX_RTO
    r = RTO()
    for x in samples:
        r.sample(x)
        assert MIN_RTO <= r.value() <= MAX_RTO
        assert r.value() >= min(r.srtt, MAX_RTO)
    for _ in range(timeouts):
        before = r.value()
        r.timeout()
        assert r.value() == min(2 * before, MAX_RTO) or r.value() == MAX_RTO


@given(u32, st.integers(0, 0x7FFFFFFF))
def test_sequence_comparisons_wrap(a, d):
    b = (a + d) & 0xFFFFFFFF
    assert tf.le(a, b)
    assert tf.lt(a, b) == (d != 0)
    assert not tf.lt(b, a)
