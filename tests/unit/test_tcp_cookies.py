# SYN cookies (RFC 4987): the encoding in the ISN (valid, expired, forged, options rounded
# down), and handshakes that go through them once a listener's backlog is full.
from morgana.net import tcp_wire as w
from morgana.net import tcp_flow as tf
from morgana.net import tcp_isn
from morgana.net.tcp_isn import (cookie_function, make_cookie, check_cookie, cookie_options,
                                 decode_options, COOKIE_SLOT)
from test_tcp_simlink import pair, pattern, transfer, IP_A, IP_B

M = 0xFFFFFFFF
G = cookie_function(b"0123456789abcdef")
TUPLE = (IP_A, 80, IP_B, 40000)


def test_cookie_valid_in_its_slot_and_the_next():
    opts = cookie_options(1460, 7, True)
    c = make_cookie(G, 1000, *(TUPLE + (12345, opts)))
    assert 0 <= c <= M
    assert check_cookie(G, 1000, *(TUPLE + (12345, c))) == opts
    assert check_cookie(G, 1001, *(TUPLE + (12345, c))) == opts


def test_cookie_expires_after_two_slots():
    c = make_cookie(G, 1000, *(TUPLE + (12345, 5)))
    for later in (1002, 1003, 1004, 1005):
        assert check_cookie(G, later, *(TUPLE + (12345, c))) is None
    assert check_cookie(G, 999, *(TUPLE + (12345, c))) is None  # not from the future


def test_cookie_forged_or_for_another_connection_refused():
    c = make_cookie(G, 1000, *(TUPLE + (12345, 5)))
    assert check_cookie(G, 1000, IP_A, 80, IP_B, 40001, 12345, c) is None  # other port
    assert check_cookie(G, 1000, IP_A, 80, IP_B + 1, 40000, 12345, c) is None
    assert check_cookie(G, 1000, *(TUPLE + (12346, c))) is None  # other peer ISN
    assert check_cookie(cookie_function(b"another-secret!!"), 1000,
                        *(TUPLE + (12345, c))) is None
    # flipping any bit breaks it, the option bits included (they are under the MAC)
    for bit in range(32):
        assert check_cookie(G, 1000, *(TUPLE + (12345, c ^ (1 << bit)))) is None
    # blind guesses: 24 MAC bits, so essentially none of a few thousand get through
    hits = 0
    for guess in range(0, 1 << 32, (1 << 32) // 3000):
        if check_cookie(G, 1000, *(TUPLE + (12345, guess))) is not None:
            hits += 1
    assert hits == 0


def test_cookie_options_round_down():
    for mss, want in ((1460, 1460), (1500, 1460), (1459, 1440), (1300, 1220), (1000, 536),
                      (None, 536), (100, 536)):
        assert decode_options(cookie_options(mss, None, False))[0] == want, mss
    for ws, want in ((None, None), (0, 0), (1, 0), (2, 2), (3, 2), (7, 7), (8, 8), (14, 9)):
        assert decode_options(cookie_options(1460, ws, False))[1] == want, ws
    assert decode_options(cookie_options(1460, 7, True))[2] is True
    assert decode_options(cookie_options(1460, 7, False))[2] is False


def test_fallback_cookie_function_without_hashlib():
    saved = tcp_isn._sha256
    tcp_isn._sha256 = None
    try:
        g = cookie_function(b"0123456789abcdef")
    finally:
        tcp_isn._sha256 = saved
    c = make_cookie(g, 7, *(TUPLE + (1, 3)))
    assert check_cookie(g, 8, *(TUPLE + (1, c))) == 3
    assert check_cookie(g, 8, *(TUPLE + (2, c))) is None


def _fill_backlog(link, a, n, port=80):
    # n half-open connections from sources that never answer
    for i in range(n):
        src = 0x0B000000 + i
        link.inject(IP_A, src, w.build(src, IP_A, 2000 + i, port, i * 1000, 0, w.SYN, 8192))
    link.run(seconds=0.001)


def _cookie_server():
    # a listener on A whose backlog of 1 is full: the next SYN gets a cookie
    clock, link, a, b, sa, sb = pair()
    got = []
    a.listen(80, got.append, backlog=1)
    _fill_backlog(link, a, 1)
    return clock, link, a, b, sa, sb, got


def test_handshake_through_a_cookie_carries_options_and_data():
    clock, link, a, b, sa, sb = pair()
    got = []
    a.listen(80, got.append, backlog=4)
    _fill_backlog(link, a, 4)
    assert len(a.listeners[80].half) == 4
    link.logging = True
    f = b.open(IP_A, 80)
    f.send_nowait(b"GET / HTTP/1.0\r\n\r\n")  # rides on the handshake's ACK
    link.run(seconds=0.1)
    assert sa["tcp_syn_cookie_sent"] == 1 and sa["tcp_syn_cookie_ok"] == 1
    synack = [s for src, s in link.log if src == IP_A and s.flags == w.SYN | w.ACK][0]
    assert synack.mss == 1460 and synack.wscale == a.rcv_ws and synack.sack_ok
    assert f.state == tf.ESTABLISHED and len(got) == 1
    sf = got[0]
    assert sf.state == tf.ESTABLISHED and sf.iss == synack.seq
    # the client's shift, rounded down to the cookie's table (a smaller shift is safe)
    ws = decode_options(cookie_options(1460, b.rcv_ws, True))[1]
    assert sf.snd_ws_ok and sf.snd_ws == ws <= b.rcv_ws and sf.sack_ok and sf.mss == 1460
    assert sf.recv_nowait() == b"GET / HTTP/1.0\r\n\r\n"
    # and it carries data both ways like any other connection
    data = pattern(100000)
    assert transfer(link, sf, f, data, close=False) == data
    assert transfer(link, f, sf, data) == data
    assert len(a.listeners[80].half) == 4  # the cookie never took a backlog slot


def test_lost_cookie_ack_recovered_by_the_clients_data():
    clock, link, a, b, sa, sb, got = _cookie_server()
    f = b.open(IP_A, 80)
    dropped = []

    def drop_bare_ack(src, s):
        if src == IP_B and s.flags == w.ACK and not len(s.data) and not dropped:
            dropped.append(s)
            return True
        return False
    link.drop_fn = drop_bare_ack
    link.run(seconds=0.1)
    assert dropped and f.state == tf.ESTABLISHED and not got
    f.send_nowait(b"hello")  # its ACK field holds the cookie too
    link.run(seconds=0.1)
    assert len(got) == 1 and got[0].recv_nowait() == b"hello"


def test_cookie_ack_wins_over_a_half_open_flow_from_the_same_syn():
    # The client's SYN got a cookie; the same SYN again (retransmitted while the cookie
    # SYN-ACK was on its way) found room in the backlog: a half-open flow with another ISN.
    # The client took the cookie, so its ACK does not fit that flow: the connection is
    # made from the cookie, where the half-open flow would have reset the client.
    clock, link, a, b, sa, sb, got = _cookie_server()
    link.logging = True
    held = []

    def hold(src, s):
        if src == IP_B and s.flags == w.ACK:
            held.append(s)
            return True
        return False
    link.drop_fn = hold
    f = b.open(IP_A, 80)
    link.run(seconds=0.05)
    assert f.state == tf.ESTABLISHED and sa["tcp_syn_cookie_sent"] == 1 and held
    syn = [s for src, s in link.log if src == IP_B and s.flags == w.SYN][0]
    lst = a.listeners[80]
    lst.half[next(iter(lst.half))]._drop(0)  # the filler goes: room again
    link.drop_fn = None
    link.inject(IP_A, IP_B, w.build(IP_B, IP_A, syn.sport, 80, syn.seq, 0, w.SYN, 8192,
                                    w.syn_options(1460, None, False)))
    link.run(seconds=0.001)
    assert len(lst.half) == 1 and not got
    ack = held[0]
    link.inject(IP_A, IP_B, w.build(IP_B, IP_A, ack.sport, 80, ack.seq, ack.ack, w.ACK,
                                    ack.wnd))
    link.run(seconds=0.1)
    assert sa["tcp_syn_cookie_over_half_open"] == 1 and sa["tcp_syn_cookie_ok"] == 1
    assert len(got) == 1 and not lst.half and a.half_open == 0
    assert f.state == tf.ESTABLISHED and sa.get("tcp_rst_out", 0) == 0
    data = pattern(20000)
    assert transfer(link, f, got[0], data) == data


def test_expired_or_forged_cookie_ack_gets_reset():
    clock, link, a, b, sa, sb, got = _cookie_server()
    link.logging = True
    f = b.open(IP_A, 80)
    link.drop_fn = lambda src, s: src == IP_B and s.flags == w.ACK  # hold the ACK back
    link.run(seconds=0.1)
    synack = [s for src, s in link.log if src == IP_A and s.flags == w.SYN | w.ACK][0]
    link.drop_fn = None
    del link.log[:]
    clock.t += 2 * COOKIE_SLOT + 1  # two slots later the cookie is dead
    link.run(seconds=0.01)
    _fill_backlog(link, a, 2)  # the listener is sending cookies again (to someone else)
    ack = w.build(IP_B, IP_A, f.lport, 80, f.snd_nxt, (synack.seq + 1) & M, w.ACK, 1000)
    link.inject(IP_A, IP_B, ack)
    link.run(seconds=0.01)
    assert not got and sa["tcp_syn_cookie_bad"] == 1
    assert [s for src, s in link.log if src == IP_A and s.flags & w.RST]
    # a forged one while cookies are fresh
    forged = w.build(IP_B, IP_A, 7777, 80, 1, 0x12345678, w.ACK, 1000)
    link.inject(IP_A, IP_B, forged)
    link.run(seconds=0.01)
    assert not got and sa["tcp_syn_cookie_bad"] == 2


def test_no_cookies_when_disabled_syn_dropped():
    clock, link, a, b, sa, sb = pair(tcp={"syncookies": False})
    a.listen(80, lambda f: None, backlog=2)
    _fill_backlog(link, a, 5)
    assert sa["tcp_syn_drop"] == 3 and "tcp_syn_cookie_sent" not in sa


def test_default_backlog_from_the_budget():
    clock, link, a, b, sa, sb = pair(tcp={"mem_budget": 1 << 20})
    small = a.default_backlog
    clock, link, a, b, sa, sb = pair(tcp={"mem_budget": 64 << 20})
    assert 16 <= small < a.default_backlog <= 256
    a.listen(80, lambda f: None)
    assert a.listeners[80].backlog == a.default_backlog
    a.listen(81, lambda f: None, backlog=3)
    assert a.listeners[81].backlog == 3
