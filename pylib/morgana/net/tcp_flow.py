# One TCP connection: the RFC 9293 state machine, NewReno congestion control (RFC 5681,
# 6582) with limited transmit (RFC 3042), early retransmit (RFC 5827), SACK-driven hole
# retransmission (RFC 2018, a light RFC 6675) and tail loss probes (RFC 8985), RTO
# (RFC 6298), delayed ACKs, zero-window probes, keep-alive and the RFC 5961 checks.
# The synchronous core (on_segment, on_timer, send_nowait, recv_nowait, shutdown, abort)
# is driven by morgana.net.tcp.TCP; read/write/close wrap it as awaitables.
# Memory: each flow charges the stack's budget for what it holds (_charge); its receive
# window (rcv_max) and its send buffer follow what the budget has spare (_size_rcv,
# send_space); timeouts bound silent, zero-window and orphaned peers (constants below).
from morgana.net.tcp_wire import FIN, SYN, RST, PSH, ACK, syn_options, sack_option
from morgana.net.tcp_rto import RTO

M = 0xFFFFFFFF

CLOSED = 0
SYN_SENT = 1
SYN_RCVD = 2
ESTABLISHED = 3
FIN_WAIT_1 = 4
FIN_WAIT_2 = 5
CLOSE_WAIT = 6
CLOSING = 7
LAST_ACK = 8
TIME_WAIT = 9
STATE_NAMES = ("CLOSED", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2",
               "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT")

ECONNRESET = 104
ETIMEDOUT = 110
ECONNREFUSED = 111
EPIPE = 32

DELACK = 0.04          # delayed-ACK timer (RFC 9293 says < 0.5 s; Linux uses 40 ms)
MAX_RETRIES = 12       # data retransmissions before giving up (ETIMEDOUT), ~280 s
ORPHAN_RETRIES = 8     # the same once the app is done with the flow (Linux: 8)
ORPHAN_SILENCE = 100.0  # ... and at most this long without a word from the peer (~8
                        # retries from a 200 ms RTO; Linux bounds orphans by time this way)
MAX_SYN_RETRIES = 5    # SYN / SYN-ACK retransmissions
MAX_PERSIST = 60.0     # zero-window probe interval cap
PERSIST_TIMEOUT = 60.0  # a zero-window peer answering no probe for this long is reset
ORPHAN_ZW_TIMEOUT = 60.0  # an orphan's peer may keep its window shut this long at most
FIN_WAIT_2_TIMEOUT = 60.0  # FIN_WAIT_2 without a segment from the peer
RECLAIM_IDLE = 1.0     # under memory pressure a peer silent this long may be evicted
ZW_VICTIM = 10.0       # ... and a zero window held this long (RFC 6429), probes answered
PMTU_MIN = 552         # ICMP may lower the path MTU to this, no lower (Linux's min_pmtu)
PMTU_PLATEAUS = (32000, 17914, 8166, 4352, 2002, 1492, 1006, 508)  # RFC 1191 section 7
SACK_ROOM = 36         # a SACK option with 4 blocks: data segments leave room for it
ENETUNREACH = 101
EHOSTUNREACH = 113
# destination unreachable codes as errors for a connection still opening (as Linux)
UNREACH_ERRNO = {0: ENETUNREACH, 1: EHOSTUNREACH, 2: 92, 3: ECONNREFUSED, 6: ENETUNREACH,
                 7: 112}
MAX_OOO = 64           # out-of-order segments kept per flow
CWND_MAX = 1 << 24
COMPACT = 65536        # drop acked bytes from the send buffer in chunks of at least this


def lt(a, b):
    """a precedes b in sequence space (mod 2**32)."""
    d = (b - a) & M
    return 0 < d < 0x80000000


def le(a, b):
    return ((b - a) & M) < 0x80000000


class Flow:
    def __init__(self, tcp, lip, lport, rip, rport, iss, state):
        self.tcp = tcp
        self.lip = lip
        self.lport = lport
        self.rip = rip
        self.rport = rport
        self.key = (rip, rport, lport)
        self.state = state
        self.listener = None
        self.error = 0
        # send side; sndbuf[sb_off:] holds bytes from buf_seq on (unacked, then unsent)
        self.iss = iss
        self.snd_una = iss
        self.snd_nxt = iss
        self.snd_max = iss
        self.snd_wnd = 0
        self.max_snd_wnd = 0
        self.snd_wl1 = 0
        self.snd_wl2 = 0
        self.snd_ws = 0
        self.rcv_ws = 0
        self.snd_ws_ok = False  # both sides agreed on window scaling
        self.sack_ok = False    # both sides agreed on SACK
        self.sacked = []        # [left, right] ranges the peer holds above snd_una, sorted
        self.rexmt_next = iss   # next hole to retransmit in SACK recovery
        self.hole_t = 0.0       # when the last hole was retransmitted
        self.lt_extra = 0       # limited transmit allowance (bytes beyond cwnd)
        self.last_ooo = 0       # start of the latest out-of-order arrival (first SACK block)
        self.mss = 536
        self.sndbuf = bytearray()
        self.sb_off = 0
        self.buf_seq = (iss + 1) & M
        self.sndbuf_max = tcp.sndbuf
        self.fin_queued = False
        # receive side
        self.irs = 0
        self.rcv_nxt = 0
        self.rcv_adv = 0
        self.rcvbuf = bytearray()
        self.rcv_max = tcp.mss  # follows the budget's spare memory (_size_rcv)
        self.ooo = []          # [seq, bytes, fin] sorted by seq
        self.ooo_bytes = 0
        self.fin_rcvd = False
        self.ack_pending = 0
        # congestion control and timing
        self.cwnd = 0
        self.ssthresh = 1 << 30
        self.dupacks = 0
        self.in_recovery = False
        self.recover = iss
        self.rto = RTO(tcp.min_rto)
        self.rtt_seq = None
        self.rtt_t = 0.0
        self.retries = 0
        self.persist_n = 0
        self.zw_since = None    # when the peer's zero window stopped our sending
        self.probe_out = False  # a zero-window probe the peer has not answered yet
        self.orphaned = False   # the app's handler is done: nobody reads or writes
        self.cha_t = -1.0       # challenge ACKs: this second's start and count (RFC 5961 7)
        self.cha_n = 0
        self.mem = 0            # what this flow is charged in tcp.mem_used
        self.mss_cap = None     # the path MTU's MSS, once ICMP told us (RFC 1191)
        self.soft_error = 0     # the last ICMP soft error (RFC 1122 4.2.3.9), for the app
        self.keep_idle = tcp.keepalive[0] if tcp.keepalive else None
        self.keep_intvl = tcp.keepalive[1] if tcp.keepalive else 75.0
        self.keep_cnt = tcp.keepalive[2] if tcp.keepalive else 9
        self.keep_probes = 0
        self.last_rx = tcp.now()
        # timers: absolute times or None; deadline is their minimum
        self.t_rexmt = None
        self.t_delack = None
        self.t_persist = None
        self.t_keep = None
        self.t_2msl = None
        self.t_tlp = None       # tail loss probe
        self.t_rack = None      # recovery: re-send a hole whose retransmission got lost
        self.tlp_done = False   # one probe per loss episode
        self.deadline = None
        self.sched_at = None    # the deadline of this flow's live entry in tcp's timer heap
        # waiting application tasks (sched.Promise)
        self._rd_wait = None
        self._wr_wait = None
        self._conn_wait = None

    # ---- helpers -------------------------------------------------------------------------

    @property
    def peer(self):
        r = self.rip
        return ("%d.%d.%d.%d" % (r >> 24, (r >> 16) & 255, (r >> 8) & 255, r & 255), self.rport)

    def state_name(self):
        return STATE_NAMES[self.state]

    def _set_mss(self, peer_mss):
        mss = peer_mss if peer_mss else 536
        if mss > self.tcp.mss:
            mss = self.tcp.mss
        if self.mss_cap is not None and mss > self.mss_cap:
            mss = self.mss_cap
        if mss < 64:
            mss = 64  # a tiny advertised MSS would turn a bulk transfer into a packet storm
        self.mss = mss
        self.cwnd = min(10 * mss, max(2 * mss, 14600))  # RFC 6928 initial window

    def _charge(self):
        """Report this flow's charge to the budget: its object and the bytes its buffers
        hold, each side's first MSS prepaid (so a flow can always move a segment each way).
        TIME_WAIT holds the object only."""
        t = self.tcp
        st = self.state
        if st == CLOSED:
            c = 0
        else:
            sb = len(self.sndbuf)
            rb = len(self.rcvbuf) + self.ooo_bytes
            if st == TIME_WAIT:
                c = t.flow_cost + sb + rb
            else:
                m = t.mss
                c = t.flow_cost + (sb if sb > m else m) + (rb if rb > m else m)
        d = c - self.mem
        if d:
            self.mem = c
            t._charged(d)

    def _rx_room(self, n):
        # may n more received bytes be held? Beyond the prepaid MSS only out of the
        # budget's spare memory: over it, a segment is dropped (the peer retransmits it)
        rb = len(self.rcvbuf) + self.ooo_bytes
        m = self.tcp.mss
        grow = rb + n - (rb if rb > m else m)
        return grow <= 0 or grow <= self.tcp.spare()

    def _size_rcv(self):
        # The receive window follows the budget: what the buffer holds plus a quarter of
        # the spare memory (between one MSS and tcp.rcvbuf), so windows shrink as memory
        # fills; never below what is held and already offered (a window is never shrunk).
        # Offers can add up to more than the budget: data beyond it is dropped (_rx_room).
        t = self.tcp
        spare = t.spare()
        rb = len(self.rcvbuf)
        new = rb + (spare >> 2 if spare > 0 else 0)
        if new > t.rcvbuf:
            new = t.rcvbuf
        cur = self.rcv_max
        if new < cur:
            adv = (self.rcv_adv - self.rcv_nxt) & M
            if adv >= 0x80000000:
                adv = 0
            lo = rb + (adv if adv > self.ooo_bytes else self.ooo_bytes)
            if lo < t.mss:
                lo = t.mss
            if new < lo:
                new = lo
            if new >= cur:
                return
            t.count("tcp_rcv_shrunk")
        self.rcv_max = new

    def _wnd_field(self):
        # Advertise free receive buffer, never shrinking the right edge already offered.
        self._size_rcv()
        free = self.rcv_max - len(self.rcvbuf)
        adv = (self.rcv_adv - self.rcv_nxt) & M
        if adv >= 0x80000000:
            adv = 0
        if free - adv < min(self.rcv_max >> 1, self.tcp.mss):
            free = adv  # receiver SWS avoidance (RFC 1122 4.2.3.3): no small openings
        if self.state <= SYN_RCVD:
            f = free if free < 65535 else 65535  # never scaled in SYN segments
            self.rcv_adv = (self.rcv_nxt + f) & M
            return f
        sh = self.rcv_ws
        f = (free + (1 << sh) - 1) >> sh
        if f > 65535:
            f = 65535
        self.rcv_adv = (self.rcv_nxt + (f << sh)) & M
        return f

    def _xmit(self, seq, flags, payload=b"", opts=b""):
        if self.ooo and self.sack_ok and flags & ACK and not flags & SYN:
            blocks = self._sack_blocks()
            if blocks:  # a queued bare FIN holds no data to report
                opts = sack_option(blocks)
        wnd = self._wnd_field()
        self.tcp._send(self, seq, self.rcv_nxt if flags & ACK else 0, flags, wnd, opts, payload)
        if flags & ACK:
            self.ack_pending = 0
            self.t_delack = None

    def _sack_blocks(self):
        # merged out-of-order runs; the one holding the latest arrival first (RFC 2018 4)
        runs = []
        for s0, d, f in self.ooo:
            if not len(d):
                continue
            e = (s0 + len(d)) & M
            if runs and le(s0, runs[-1][1]):
                if lt(runs[-1][1], e):
                    runs[-1][1] = e
            else:
                runs.append([s0, e])
        out = []
        for r in runs:
            if le(r[0], self.last_ooo) and lt(self.last_ooo, r[1]):
                out.insert(0, (r[0], r[1]))
            else:
                out.append((r[0], r[1]))
        return out

    def _retime(self):
        d = None
        for t in (self.t_rexmt, self.t_delack, self.t_persist, self.t_keep, self.t_2msl,
                  self.t_tlp, self.t_rack):
            if t is not None and (d is None or t < d):
                d = t
        self.deadline = d
        if d is not None:
            self.tcp._schedule(self, d)

    def _wake(self, name, exc=None):
        p = getattr(self, name)
        if p is not None:
            setattr(self, name, None)
            if not p.done():
                if exc is None:
                    p.wakeup(None)
                else:
                    p.wakeup_exn(exc)

    def _wake_all(self):
        exc = OSError(self.error) if self.error else None
        self._wake("_rd_wait", exc)
        self._wake("_wr_wait", exc)
        self._wake("_conn_wait", exc)

    def _drop(self, err):
        """Forget the connection (after RST, timeout, or the end of TIME_WAIT)."""
        if err and not self.error:
            self.error = err
        self.state = CLOSED
        self.t_rexmt = self.t_delack = self.t_persist = self.t_keep = self.t_2msl = None
        self.t_tlp = self.t_rack = None
        self.deadline = None
        # nothing unsent or out of order can be delivered now: give it back, since the app
        # may hold the Flow long after its charge went to zero (received data stays: read
        # returns it before the error or EOF)
        self.sndbuf = bytearray()
        self.sb_off = 0
        self.ooo = []
        self.ooo_bytes = 0
        self.tcp._remove(self)
        self._wake_all()

    def _challenge_ack(self):
        # RFC 5961 section 7 rate limit, per connection: a budget shared by all flows lets
        # an attacker count its own challenge ACKs to learn whether a spoofed segment hit
        # another connection's window (CVE-2016-5696)
        t = self.tcp
        now = t.now()
        if now - self.cha_t >= 1.0:
            self.cha_t = now
            self.cha_n = 0
        if self.cha_n >= t.cha_limit:
            t.count("tcp_challenge_ack_limited")
            return
        self.cha_n += 1
        t.count("tcp_challenge_ack")
        self._xmit(self.snd_nxt, ACK)

    def _enter_time_wait(self):
        self.state = TIME_WAIT
        self.ooo = []  # nothing more can arrive in sequence: TIME_WAIT keeps the object only
        self.ooo_bytes = 0
        self.t_rexmt = self.t_persist = self.t_keep = self.t_tlp = self.t_rack = None
        self.t_2msl = self.tcp.now() + 2 * self.tcp.msl
        self.tcp._time_wait(self)

    # ---- opening -------------------------------------------------------------------------

    def send_syn(self):
        # SYN (active) or SYN-ACK (passive / simultaneous open); window never scaled here
        flags = SYN | (ACK if self.state == SYN_RCVD else 0)
        active = self.state == SYN_SENT
        ws = self.rcv_ws if active or self.snd_ws_ok else None
        sack = self.tcp.sack and (active or self.sack_ok)
        self._xmit(self.iss, flags, b"", syn_options(self.tcp.mss, ws, sack))
        self.snd_nxt = (self.iss + 1) & M
        if lt(self.snd_max, self.snd_nxt):
            self.snd_max = self.snd_nxt
        now = self.tcp.now()
        if self.rtt_seq is None and self.retries == 0:
            self.rtt_seq = self.iss
            self.rtt_t = now
        self.t_rexmt = now + self.rto.value()
        self._retime()

    def open_passive(self, seg):
        """A SYN reached a listener: become SYN_RCVD and answer SYN-ACK."""
        self.irs = seg.seq
        self.rcv_nxt = (seg.seq + 1) & M
        self.rcv_adv = self.rcv_nxt
        self.snd_ws_ok = seg.wscale is not None
        self.sack_ok = seg.sack_ok and self.tcp.sack
        if self.snd_ws_ok:
            self.snd_ws = seg.wscale
            self.rcv_ws = self.tcp.rcv_ws
        self._set_mss(seg.mss)
        self.snd_wnd = seg.wnd
        self.max_snd_wnd = seg.wnd
        self.snd_wl1 = seg.seq
        self.snd_wl2 = self.iss
        self.send_syn()

    def open_active(self):
        self.snd_ws_ok = True
        self.rcv_ws = self.tcp.rcv_ws
        self.send_syn()

    def open_cookie(self, seg, irs, mss, wscale, sack):
        """Become ESTABLISHED from a valid SYN-cookie ACK (our SYN-ACK offered one MSS of
        window and the options decoded from the cookie), then take the segment's data."""
        self.irs = irs
        self.rcv_nxt = (irs + 1) & M
        self.rcv_adv = (self.rcv_nxt + self.tcp.mss) & M
        self.snd_ws_ok = wscale is not None
        if self.snd_ws_ok:
            self.snd_ws = wscale
            self.rcv_ws = self.tcp.rcv_ws
        self.sack_ok = sack
        self._set_mss(mss)
        una = (self.iss + 1) & M
        self.snd_una = self.snd_nxt = self.snd_max = una
        self.rexmt_next = self.recover = una
        self.snd_wnd = self.max_snd_wnd = seg.wnd << self.snd_ws
        self.snd_wl1 = seg.seq
        self.snd_wl2 = seg.ack
        self._established()
        if self.state != CLOSED:
            self.on_segment(seg)

    def _in_syn_sent(self, seg):
        fl = seg.flags
        if fl & ACK and (le(seg.ack, self.iss) or lt(self.snd_max, seg.ack)):
            if not fl & RST:
                self.tcp._send_rst(self.lip, self.rip, self.lport, self.rport, seg.ack, 0, 0)
            self.tcp.count("tcp_bad_ack")
            return
        if fl & RST:
            if fl & ACK:
                self._drop(ECONNREFUSED)
            return
        if not fl & SYN:
            return
        self.irs = seg.seq
        self.rcv_nxt = (seg.seq + 1) & M
        self.rcv_adv = self.rcv_nxt
        self.sack_ok = seg.sack_ok and self.tcp.sack
        if seg.wscale is None:
            self.snd_ws = self.rcv_ws = 0
            self.snd_ws_ok = False
        else:
            self.snd_ws = seg.wscale
        self._set_mss(seg.mss)
        self.snd_wnd = seg.wnd
        self.max_snd_wnd = seg.wnd
        self.snd_wl1 = seg.seq
        if fl & ACK:
            self.snd_wl2 = seg.ack
            self._ack_syn(seg.ack)
            self.state = ESTABLISHED
            self._xmit(self.snd_nxt, ACK)
            self._established()
            self.output()
        else:
            # simultaneous open (RFC 9293 3.5, figure 8)
            self.snd_wl2 = self.iss
            self.state = SYN_RCVD
            self.retries = 0
            self.send_syn()

    def _ack_syn(self, ack):
        if self.rtt_seq is not None and self.retries == 0:
            self.rto.sample(self.tcp.now() - self.rtt_t)
        self.rtt_seq = None
        self.retries = 0
        self.rto.backoff = 0
        self.snd_una = (self.iss + 1) & M
        self.t_rexmt = None
        self._retime()

    def _established(self):
        self.last_rx = self.tcp.now()
        if self.keep_idle:
            self.t_keep = self.last_rx + self.keep_idle
        self.tcp._established(self)
        self._wake("_conn_wait")

    # ---- input ---------------------------------------------------------------------------

    def _acceptable(self, seq, seglen):
        rwnd = (self.rcv_adv - self.rcv_nxt) & M
        if rwnd >= 0x80000000:
            rwnd = 0
        free = self.rcv_max - len(self.rcvbuf)
        if free > rwnd:
            rwnd = free
        nxt = self.rcv_nxt
        if seglen == 0:
            if rwnd == 0:
                return seq == nxt
            return le(nxt, seq) and lt(seq, (nxt + rwnd) & M)
        if rwnd == 0:
            return False
        end = (nxt + rwnd) & M
        last = (seq + seglen - 1) & M
        return (le(nxt, seq) and lt(seq, end)) or (le(nxt, last) and lt(last, end))

    def on_segment(self, seg):
        st = self.state
        now = self.tcp.now()
        self.last_rx = now
        self.keep_probes = 0
        self.probe_out = False
        if st == FIN_WAIT_2 and not self.orphaned and self.t_2msl is not None:
            # half-closed and the app may still read: give up on a silent peer only
            self.t_2msl = now + FIN_WAIT_2_TIMEOUT
        if st == SYN_SENT:
            self._in_syn_sent(seg)
            return
        fl = seg.flags
        seq = seg.seq
        if st == SYN_RCVD and fl & SYN and seq == self.irs:
            if not fl & ACK:
                self.send_syn()  # our SYN-ACK was lost: the peer repeated its SYN
                return
            # simultaneous open: the peer's SYN-ACK acks our SYN; its SYN is known
            seq = (seq + 1) & M
            fl &= ~SYN
        data = seg.data
        seglen = len(data) + (1 if fl & SYN else 0) + (1 if fl & FIN else 0)
        # 1. sequence number check
        if not self._acceptable(seq, seglen):
            if fl & RST:
                self.tcp.count("tcp_rst_out_of_window")  # blind guess: ignored silently
            else:
                self.tcp.count("tcp_out_of_window")
                self._xmit(self.snd_nxt, ACK)
                if st == TIME_WAIT and fl & FIN:
                    self.t_2msl = now + 2 * self.tcp.msl  # RFC 9293: restart 2MSL
                    self._retime()
            return
        # 2. RST (RFC 5961 3.2): exact match resets, in-window gets a challenge ACK
        if fl & RST:
            self.tcp.count("tcp_rst_in")
            if st == TIME_WAIT:
                return  # RFC 1337: ignore, TIME_WAIT must run its course
            if seq == self.rcv_nxt:
                self._drop(ECONNRESET if st != SYN_RCVD or self.listener is None else 0)
            else:
                self._challenge_ack()
            return
        # 4. SYN in a synchronized state (RFC 5961 4.2): challenge ACK, never reset
        if fl & SYN:
            self.tcp.count("tcp_syn_in_window")
            self._challenge_ack()
            return
        # 5. ACK
        if not fl & ACK:
            return
        ack = seg.ack
        if st == SYN_RCVD:
            if lt(self.snd_una, ack) and le(ack, self.snd_max):
                self._ack_syn(ack)
                self.state = ESTABLISHED
                st = ESTABLISHED
                self.snd_wnd = seg.wnd << self.snd_ws
                self.max_snd_wnd = self.snd_wnd
                self.snd_wl1 = seq
                self.snd_wl2 = ack
                self._established()
            else:
                self.tcp._send_rst(self.lip, self.rip, self.lport, self.rport, ack, 0, 0)
                return
        # RFC 5961 5.2: the ACK must lie in [SND.UNA - MAX.SND.WND, SND.MAX]
        if lt(self.snd_max, ack) or lt(ack, (self.snd_una - self.max_snd_wnd) & M):
            self.tcp.count("tcp_bad_ack")
            self._challenge_ack()
            return
        wnd = seg.wnd << self.snd_ws
        if seg.sack is not None and self.sack_ok:
            self._take_sack(seg.sack)
        if lt(self.snd_una, ack):
            self._new_ack(ack, now)
        elif (ack == self.snd_una and not len(data) and not fl & FIN and wnd == self.snd_wnd
              and self.snd_max != self.snd_una):
            self._dup_ack(ack)
        # window update (RFC 9293 3.10.7.4)
        if lt(self.snd_wl1, seq) or (self.snd_wl1 == seq and le(self.snd_wl2, ack)):
            self.snd_wnd = wnd
            self.snd_wl1 = seq
            self.snd_wl2 = ack
            if wnd > self.max_snd_wnd:
                self.max_snd_wnd = wnd
            if wnd:
                self.t_persist = None
                self.persist_n = 0
                self.zw_since = None
        if self.state == CLOSED:
            return
        self._fin_acked_transition()
        if self.state in (CLOSED, TIME_WAIT) and not (fl & FIN or len(data)):
            self._retime()
            return
        # 7. data and 8. FIN
        if len(data) or fl & FIN:
            self._rx_data(seq, data, fl & FIN)
        if self.state != CLOSED:
            self.output()

    def _fin_acked_transition(self):
        if not self.fin_queued:
            return
        fin_seq = (self.buf_seq + len(self.sndbuf) - self.sb_off) & M
        if self.snd_una != ((fin_seq + 1) & M):
            return
        st = self.state
        if st == FIN_WAIT_1:
            self.state = FIN_WAIT_2
            self.t_2msl = self.tcp.now() + FIN_WAIT_2_TIMEOUT  # never linger forever
        elif st == CLOSING:
            self._enter_time_wait()
        elif st == LAST_ACK:
            self._drop(0)

    def _new_ack(self, ack, now):
        acked = (ack - self.snd_una) & M
        if self.rtt_seq is not None and lt(self.rtt_seq, ack):
            self.rto.sample(now - self.rtt_t)
            self.rtt_seq = None
        held = len(self.sndbuf) - self.sb_off
        d = (ack - self.buf_seq) & M
        if d >= 0x80000000:
            d = 0
        if d > held:
            d = held  # the rest is our FIN
        if d:
            self.sb_off += d
            self.buf_seq = (self.buf_seq + d) & M
            if self.sb_off >= len(self.sndbuf):
                self.sndbuf = bytearray()  # all acked: give the memory back at once
                self.sb_off = 0
            elif (self.sb_off >= COMPACT or self.sb_off >= self.sndbuf_max >> 1) and \
                    self.sb_off * 2 >= len(self.sndbuf):
                self.sndbuf = self.sndbuf[self.sb_off:]  # MicroPython has no del b[:n]
                self.sb_off = 0
        self.snd_una = ack
        if lt(self.snd_nxt, ack):
            self.snd_nxt = ack
        if self.sacked:
            self._prune_sacked()
        self.lt_extra = 0
        self.retries = 0
        self.rto.backoff = 0
        mss = self.mss
        if self.in_recovery:
            if le(self.recover, ack):
                self.in_recovery = False  # full ACK: leave fast recovery (RFC 6582 3.2.3)
                self.t_rack = None
                flight = (self.snd_max - ack) & M
                self.cwnd = min(self.ssthresh, flight + mss)
            else:
                self.tcp.count("tcp_partial_ack")
                self._retransmit_hole()  # partial ACK: the next hole is lost too
                c = self.cwnd - acked + mss
                self.cwnd = c if c > mss else mss
        elif self.cwnd < self.ssthresh:
            self.cwnd += acked if acked < mss else mss
        else:
            self.cwnd += max(1, mss * mss // self.cwnd)
        if self.cwnd > CWND_MAX:
            self.cwnd = CWND_MAX
        self.dupacks = 0
        self.tlp_done = False
        if self.snd_una == self.snd_max:
            self.t_rexmt = self.t_tlp = None
        else:
            self.t_rexmt = now + self.rto.value()
            self._arm_tlp(now)
        self._wake("_wr_wait")

    def _dup_ack(self, ack):
        self.dupacks += 1
        self.tcp.count("tcp_dup_ack")
        mss = self.mss
        flight = (self.snd_max - self.snd_una) & M
        unsent = len(self.sndbuf) - self.sb_off - ((self.snd_max - self.buf_seq) & M)
        thresh = 3
        if self.tlp_done:
            thresh = 1  # the probe was answered with a hole: repair now, not at the RTO
        elif flight < 4 * mss and unsent <= 0:
            thresh = max(1, (flight + mss - 1) // mss - 1)  # early retransmit (RFC 5827)
        if self.in_recovery:
            if self.sacked:
                if self._retransmit_hole():
                    return  # a SACK hole went out in place of the segment that left
                srtt = self.rto.srtt or 0.0
                if self.tcp.now() - self.hole_t > 2 * srtt + 0.002:
                    # SACKs keep coming but the holes stay: our retransmissions were lost
                    self.tcp.count("tcp_rexmt_lost")
                    self.rexmt_next = self.snd_una
                    if self._retransmit_hole():
                        return
            self.cwnd += mss
        elif self.dupacks >= thresh and (le(self.recover, ack) or self.sacked):
            # back off to 0.7 of the flight (RFC 9438's beta) rather than Reno's 0.5: random
            # loss on a LAN is rarely congestion, and halving starves the flow
            self.ssthresh = max(flight * 7 // 10, 2 * mss)
            self.recover = self.snd_max
            self.in_recovery = True
            self.lt_extra = 0
            self.tcp.count("tcp_fast_rexmt")
            self.t_tlp = None
            self.rexmt_next = self.snd_una
            self._retransmit_hole()
            self.cwnd = self.ssthresh + 3 * mss
        elif self.dupacks < 3:
            self.lt_extra = self.dupacks * mss  # limited transmit (RFC 3042)

    def _take_sack(self, blocks):
        # keep only blocks inside what we sent (RFC 2018 / 5961 spirit: ignore bogus ones)
        una = self.snd_una
        top = self.snd_max
        sk = self.sacked
        for left, right in blocks:
            if not (lt(una, right) and lt(left, right) and le(right, top) and le(una, left)):
                continue
            sk.append([left, right])
        if not sk:
            return
        sk.sort(key=lambda r: (r[0] - una) & M)
        merged = [sk[0]]
        for r in sk[1:]:
            last = merged[-1]
            if le(r[0], last[1]):
                if lt(last[1], r[1]):
                    last[1] = r[1]
            else:
                merged.append(r)
        self.sacked = merged[:16]

    def _prune_sacked(self):
        una = self.snd_una
        out = []
        for r in self.sacked:
            if le(r[1], una):
                continue
            if lt(r[0], una):
                r[0] = una
            out.append(r)
        self.sacked = out

    def _retransmit_hole(self):
        """Resend the first unSACKed segment at or after rexmt_next (snd_una without SACK
        information). Returns True when something was sent."""
        start = self.rexmt_next if lt(self.snd_una, self.rexmt_next) else self.snd_una
        limit = None
        if self.sacked:
            for left, right in self.sacked:
                if le(right, start):
                    continue
                if lt(start, left):
                    limit = (left - start) & M
                    break
                start = right
            else:
                return False  # nothing left below the highest SACKed byte
        n = self._retransmit_at(start, limit)
        if n:
            self.rexmt_next = (start + n) & M
            now = self.tcp.now()
            self.hole_t = now
            if self.in_recovery:
                # RACK spirit (RFC 8985): a retransmission not acked within a few RTTs was
                # lost too; re-send it then instead of waiting for the RTO
                srtt = self.rto.srtt or 0.1
                self.t_rack = now + (2 * srtt + 0.01)
        return n > 0

    def _retransmit_at(self, seq, limit=None):
        # resend one segment from seq without moving SND.NXT; Karn: stop timing
        self.rtt_seq = None
        held = len(self.sndbuf) - self.sb_off
        off = (seq - self.buf_seq) & M
        if off > held or not lt(seq, self.snd_max):
            return 0
        n = held - off
        room = self._seg_room()
        if n > room:
            n = room
        if limit is not None and n > limit:
            n = limit
        fin = self.fin_queued and off + n == held
        if n == 0 and not fin:
            return 0
        p = self.sb_off + off
        payload = memoryview(self.sndbuf)[p:p + n] if n else b""
        self.tcp.count("tcp_rexmt")
        self._xmit(seq, ACK | (FIN if fin else 0), payload)
        self.t_rexmt = self.tcp.now() + self.rto.value()
        return n + (1 if fin else 0)

    def _right_edge(self):
        free = self.rcv_max - len(self.rcvbuf)
        edge = (self.rcv_nxt + (free if free > 0 else 0)) & M
        return self.rcv_adv if lt(edge, self.rcv_adv) else edge

    def _rx_data(self, seq, data, fin):
        if self.fin_rcvd:
            return  # nothing follows a FIN; its retransmissions were handled as old data
        nxt = self.rcv_nxt
        n = len(data)
        if lt(seq, nxt):
            cut = (nxt - seq) & M
            if cut > n:
                return
            data = data[cut:]
            seq = nxt
            n -= cut
        edge = self._right_edge()
        room = (edge - seq) & M
        if room >= 0x80000000:
            room = 0
        if n > room:
            data = data[:room]
            n = room
            fin = 0
        if n and not self.orphaned and not self._rx_room(n):
            self.tcp.count("tcp_rcv_drop_memory")
            self._xmit(self.snd_nxt, ACK)  # the window it shows has shrunk with memory
            return
        if seq != nxt:
            self._store_ooo(seq, data, fin)
            self._xmit(self.snd_nxt, ACK)  # immediate duplicate ACK drives fast retransmit
            return
        if n:
            if not self.orphaned:
                self.rcvbuf += data
            self.rcv_nxt = (nxt + n) & M
        if fin:
            self._rx_fin()
        filled = False
        if self.ooo:
            filled = self._drain_ooo()
            if self.orphaned:
                self.rcvbuf = bytearray()
        if self.orphaned and n:
            self.tcp.count("tcp_orphan_data")  # nobody will read it: acked and dropped
        self._wake("_rd_wait")
        if self.fin_rcvd or filled:
            self._xmit(self.snd_nxt, ACK)
            return
        self.ack_pending += 1
        if self.ack_pending >= 2:
            self._xmit(self.snd_nxt, ACK)  # RFC 9293 / 1122: ack at least every 2nd segment
        elif self.t_delack is None:
            self.t_delack = self.tcp.now() + DELACK
            self._retime()

    def _store_ooo(self, seq, data, fin):
        self.tcp.count("tcp_ooo")
        self.last_ooo = seq
        n = len(data)
        if len(self.ooo) >= MAX_OOO or self.ooo_bytes + n > self.rcv_max - len(self.rcvbuf):
            self.tcp.count("tcp_ooo_dropped")
            return
        i = 0
        q = self.ooo
        while i < len(q) and lt(q[i][0], seq):
            i += 1
        if i < len(q) and q[i][0] == seq and len(q[i][1]) >= n:
            return  # duplicate of something already held
        if i > 0:
            prev = q[i - 1]
            if not prev[2] and ((prev[0] + len(prev[1])) & M) == seq:
                prev[1] += data  # extends the run before it: one entry per hole
                prev[2] = fin
                self.ooo_bytes += n
                return
        q.insert(i, [seq, bytearray(data), fin])
        self.ooo_bytes += n

    def _drain_ooo(self):
        q = self.ooo
        moved = False
        while q and not self.fin_rcvd:
            seq, d, fin = q[0]
            if lt(self.rcv_nxt, seq):
                break
            q.pop(0)
            self.ooo_bytes -= len(d)
            cut = (self.rcv_nxt - seq) & M
            if cut > len(d):
                continue
            if cut < len(d):
                self.rcvbuf += memoryview(d)[cut:]
                self.rcv_nxt = (self.rcv_nxt + len(d) - cut) & M
                moved = True
            if fin:
                self._rx_fin()
                moved = True
        if self.fin_rcvd:
            self.ooo = []
            self.ooo_bytes = 0
        return moved

    def _rx_fin(self):
        self.rcv_nxt = (self.rcv_nxt + 1) & M
        self.fin_rcvd = True
        st = self.state
        if st == ESTABLISHED:
            self.state = CLOSE_WAIT
        elif st == FIN_WAIT_1:
            self.state = CLOSING  # simultaneous close
        elif st == FIN_WAIT_2:
            self._enter_time_wait()

    # ---- output --------------------------------------------------------------------------

    def output(self):
        """Send whatever the windows allow; arm the retransmit or persist timer."""
        st = self.state
        if st < ESTABLISHED or st == FIN_WAIT_2 or st == TIME_WAIT:
            self._retime()
            return
        buf = self.sndbuf
        held = len(buf) - self.sb_off
        cw = self.cwnd + self.lt_extra
        wnd = self.snd_wnd if self.snd_wnd < cw else cw
        mss = self._seg_room()
        sent = False
        while True:
            off = (self.snd_nxt - self.buf_seq) & M
            if off > held:
                break  # FIN already sent
            room = wnd - ((self.snd_nxt - self.snd_una) & M)
            n = held - off
            if n > room:
                n = room
            if n > mss:
                n = mss
            if n < 0:
                n = 0
            fin = self.fin_queued and off + n == held
            if n == 0 and not fin:
                break
            if (n < mss and off + n < held and n < (self.max_snd_wnd >> 1)
                    and self.snd_nxt != self.snd_una):
                break  # sender SWS avoidance: an ACK in flight will bring a better window
            flags = ACK
            if fin:
                flags |= FIN
            if n and off + n == held:
                flags |= PSH
            p = self.sb_off + off
            now = self.tcp.now()
            if self.rtt_seq is None and self.snd_nxt == self.snd_max and n:
                self.rtt_seq = self.snd_nxt
                self.rtt_t = now
            self._xmit(self.snd_nxt, flags, memoryview(buf)[p:p + n] if n else b"")
            self.snd_nxt = (self.snd_nxt + n + (1 if fin else 0)) & M
            if lt(self.snd_max, self.snd_nxt):
                self.snd_max = self.snd_nxt
            if self.t_rexmt is None:
                self.t_rexmt = now + self.rto.value()
            if self.t_tlp is None:
                self._arm_tlp(now)
            sent = True
            if fin:
                break
        if (not sent and self.snd_wnd == 0 and self.snd_nxt == self.snd_una
                and self.t_persist is None and self.t_rexmt is None
                and (held or self.fin_queued)):
            now = self.tcp.now()
            self.t_persist = now + self.rto.value()
            if self.zw_since is None:
                self.zw_since = now
        self._retime()

    def _seg_room(self):
        # payload per segment: the MSS less a SACK option's room when one will ride along
        # (RFC 6691: the MSS counts no options), so no segment outgrows the path MTU
        if self.ooo and self.sack_ok:
            return self.mss - SACK_ROOM
        return self.mss

    def _arm_tlp(self, now):
        # RFC 8985 7.2: probe after 2 SRTT (plus the peer's delayed ACK for one segment)
        if self.tlp_done or self.in_recovery or self.rto.srtt is None:
            return
        pto = 2 * self.rto.srtt
        if pto < 0.01:
            pto = 0.01
        if ((self.snd_max - self.snd_una) & M) <= self.mss:
            pto += DELACK
        t = now + pto
        if self.t_rexmt is not None and t >= self.t_rexmt:
            return
        self.t_tlp = t

    def _on_tlp(self, now):
        self.t_tlp = None
        if self.snd_una == self.snd_max or self.in_recovery:
            return
        self.tlp_done = True
        self.tcp.count("tcp_tlp")
        held = len(self.sndbuf) - self.sb_off
        sent = (self.snd_max - self.buf_seq) & M
        if sent < held and self.snd_nxt == self.snd_max and self.snd_wnd > sent - (
                (self.snd_una - self.buf_seq) & M):
            keep = self.lt_extra
            flight = (self.snd_max - self.snd_una) & M
            # new data makes the better probe: allow exactly one segment past cwnd
            self.lt_extra = (flight - self.cwnd if flight > self.cwnd else 0) + self.mss
            nxt = self.snd_nxt
            self.output()
            self.lt_extra = keep
            if self.snd_nxt == nxt:
                last = (self.snd_max - self.mss) & M
                self._retransmit_at(last if lt(self.snd_una, last) else self.snd_una)
        else:
            last = (self.snd_max - self.mss) & M
            self._retransmit_at(last if lt(self.snd_una, last) else self.snd_una)
        self.t_rexmt = now + self.rto.value()

    def _send_ack_now(self):
        self._xmit(self.snd_nxt, ACK)

    # ---- timers --------------------------------------------------------------------------

    def on_timer(self, now):
        if self.t_2msl is not None and self.t_2msl <= now:
            self._drop(0)  # TIME_WAIT over, or FIN_WAIT_2 gave up on the peer
            return
        if self.t_rexmt is not None and self.t_rexmt <= now:
            self.t_rexmt = None
            self._on_rexmt(now)
            if self.state == CLOSED:
                return
        if self.t_tlp is not None and self.t_tlp <= now:
            self._on_tlp(now)
        if self.t_rack is not None and self.t_rack <= now:
            self.t_rack = None
            if self.in_recovery and self.snd_una != self.snd_max:
                self.tcp.count("tcp_rack_rexmt")
                self.rexmt_next = self.snd_una
                self._retransmit_hole()
        if self.t_persist is not None and self.t_persist <= now:
            self._on_persist(now)
        if self.t_delack is not None and self.t_delack <= now:
            self._xmit(self.snd_nxt, ACK)
        if self.t_keep is not None and self.t_keep <= now:
            self._on_keep(now)
            if self.state == CLOSED:
                return
        self._retime()

    def _on_rexmt(self, now):
        self.retries += 1
        self.rto.timeout()
        self.rtt_seq = None
        st = self.state
        if st == SYN_SENT or st == SYN_RCVD:
            if self.retries > MAX_SYN_RETRIES:
                self.tcp.count("tcp_syn_timeout")
                self._drop(ETIMEDOUT)
                return
            self.tcp.count("tcp_rexmt")
            self.send_syn()
            return
        if self.snd_una == self.snd_max:
            return
        if self.orphaned:
            if self.retries > ORPHAN_RETRIES or now - self.last_rx >= ORPHAN_SILENCE - 1e-3:
                self._give_up("tcp_timeout")
                return
        elif self.retries > MAX_RETRIES:
            self._give_up("tcp_timeout")
            return
        self.tcp.count("tcp_rto")
        flight = (self.snd_max - self.snd_una) & M
        self.ssthresh = max(flight // 2, 2 * self.mss)
        self.cwnd = self.mss
        self.in_recovery = False
        self.dupacks = 0
        self.lt_extra = 0
        self.t_tlp = self.t_rack = None
        self.sacked = []  # RFC 6675 5.1 allows forgetting SACK state after a timeout
        self.recover = self.snd_max
        self.snd_nxt = self.snd_una  # go back: resend from the first unacked byte
        self.tcp.count("tcp_rexmt")
        self.output()
        if self.orphaned and self.t_rexmt is not None:
            lim = self.last_rx + ORPHAN_SILENCE
            if lim < self.t_rexmt:  # the next timeout comes no later than the give-up time
                self.t_rexmt = lim if lim > now else now + 0.01

    def _on_persist(self, now):
        # zero-window probe: an old sequence number makes the peer answer with its window
        if self.probe_out and now - self.last_rx >= PERSIST_TIMEOUT - 1e-3:
            self._give_up("tcp_persist_timeout")  # not a reader, a silent peer
            return
        if (self.orphaned and self.zw_since is not None
                and now - self.zw_since >= ORPHAN_ZW_TIMEOUT - 1e-3):
            self._give_up("tcp_orphan_zw_timeout")  # nobody is left to wait for it
            return
        self.tcp.count("tcp_window_probe")
        self._xmit((self.snd_una - 1) & M, ACK)
        self.probe_out = True
        self.persist_n += 1
        iv = self.rto.value() * (1 << min(self.persist_n, 10))
        t = now + (iv if iv < MAX_PERSIST else MAX_PERSIST)
        # the next probe comes no later than the moment the peer would be given up on
        lim = self.last_rx + PERSIST_TIMEOUT
        if self.orphaned and self.zw_since is not None:
            z = self.zw_since + ORPHAN_ZW_TIMEOUT
            if z < lim:
                lim = z
        if lim < t:
            t = lim if lim > now else now + 0.01
        self.t_persist = t

    def _give_up(self, why):
        self.tcp.count(why)
        self.tcp._send_rst(self.lip, self.rip, self.lport, self.rport, self.snd_nxt, 0, 0)
        self._drop(ETIMEDOUT)

    def _on_keep(self, now):
        idle = now - self.last_rx
        if self.keep_idle is None or self.state not in (ESTABLISHED, CLOSE_WAIT):
            self.t_keep = None
            return
        if self.keep_probes == 0 and idle < self.keep_idle:
            self.t_keep = self.last_rx + self.keep_idle  # traffic since: re-arm lazily
            return
        if self.keep_probes >= self.keep_cnt:
            self.tcp.count("tcp_keepalive_timeout")
            self.tcp._send_rst(self.lip, self.rip, self.lport, self.rport, self.snd_nxt, 0, 0)
            self._drop(ETIMEDOUT)
            return
        self.keep_probes += 1
        self.tcp.count("tcp_keepalive_probe")
        self._xmit((self.snd_nxt - 1) & M, ACK)
        self.t_keep = now + self.keep_intvl

    # ---- synchronous application interface -----------------------------------------------

    def set_keepalive(self, idle, interval=75.0, count=9):
        """Probe after idle seconds of silence, every interval, abort after count misses."""
        self.keep_idle = idle
        self.keep_intvl = interval
        self.keep_cnt = count
        if idle and self.state in (ESTABLISHED, CLOSE_WAIT):
            self.t_keep = self.tcp.now() + idle
        else:
            self.t_keep = None
        self._retime()

    def unacked(self):
        """True while sent or queued data, or our FIN, awaits the peer's ACK."""
        st = self.state
        if st == FIN_WAIT_1 or st == CLOSING or st == LAST_ACK:
            return True
        if st == ESTABLISHED or st == CLOSE_WAIT:
            return len(self.sndbuf) > self.sb_off
        return False

    def send_space(self):
        """Bytes send_nowait would take now: the send buffer's room, and beyond the flow's
        prepaid MSS only what the memory budget has spare."""
        space = self.sndbuf_max - (len(self.sndbuf) - self.sb_off)
        t = self.tcp
        n = len(self.sndbuf)
        room = t.spare()
        if room < 0:
            room = 0
        if n < t.mss:
            room += t.mss - n
        return space if space < room else room

    def send_nowait(self, data):
        """Queue as much of data as fits; returns the number of bytes taken."""
        if self.error:
            raise OSError(self.error)
        if self.fin_queued or self.state not in (ESTABLISHED, CLOSE_WAIT, SYN_SENT, SYN_RCVD):
            raise OSError(EPIPE)
        space = self.send_space()
        if space <= 0:
            return 0
        n = len(data)
        if n > space:
            n = space
            data = memoryview(data)[:n]
        self.sndbuf += data
        self.output()
        self._charge()
        return n

    def recv_nowait(self, n=None):
        """Buffered bytes (up to n), b'' at EOF, None when nothing is available yet."""
        buf = self.rcvbuf
        if buf:
            if n is None or n >= len(buf):
                out = bytes(buf)
                self.rcvbuf = bytearray()
            else:
                out = bytes(buf[:n])
                self.rcvbuf = buf[n:]
            self._charge()
            self._window_update()
            return out
        if self.error:
            raise OSError(self.error)
        if self.fin_rcvd or self.state == CLOSED:
            return b""
        return None

    def _window_update(self):
        if self.state not in (ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2) or self.fin_rcvd:
            return
        adv = (self.rcv_adv - self.rcv_nxt) & M
        if adv >= 0x80000000:
            adv = 0
        free = self.rcv_max - len(self.rcvbuf)
        # receiver SWS avoidance (RFC 1122 4.2.3.3): only announce a worthwhile opening
        if free - adv >= min(self.rcv_max >> 1, self.tcp.mss):
            self._xmit(self.snd_nxt, ACK)

    def shutdown(self):
        """Close our sending side: FIN follows the queued data. Reading goes on until the
        peer's FIN (half-close); unread data stays bounded by the receive buffer."""
        st = self.state
        if st == ESTABLISHED:
            self.state = FIN_WAIT_1
        elif st == CLOSE_WAIT:
            self.state = LAST_ACK
        elif st == SYN_SENT or st == SYN_RCVD:
            self._drop(0)
            return
        else:
            return
        self.fin_queued = True
        self.output()

    def orphan(self):
        """The app is done with the flow (its handler returned): FIN after the queued data;
        what still arrives is acked and dropped, and the peer has ORPHAN_RETRIES (at most
        ORPHAN_SILENCE s of silence) and ORPHAN_ZW_TIMEOUT s of zero window to take the rest;
        FIN_WAIT_2 is not prolonged by the peer's segments."""
        self.orphaned = True
        if self.rcvbuf:
            self.rcvbuf = bytearray()
            self._charge()
        self.shutdown()

    def stall_rank(self, now):
        """How much this flow deserves eviction when memory is short (smaller first):
        1 a peer that answers nothing while data waits (an unanswered zero-window probe, or
        repeated retransmissions), 2 an orphan still waiting on its peer, 3 a zero window
        held for ZW_VICTIM s (RFC 6429 lets a sender reclaim it); 0 never (progressing)."""
        st = self.state
        if st < ESTABLISHED or st == TIME_WAIT:
            return 0
        if now - self.last_rx < RECLAIM_IDLE:
            return 0
        if self.probe_out or self.retries >= 2:
            return 1
        if self.orphaned:
            return 2
        if self.zw_since is not None and now - self.zw_since >= ZW_VICTIM:
            return 3
        return 0

    def path_mtu(self, mtu):
        """ICMP fragmentation needed (RFC 1191): smaller segments from now on. mtu 0 (an
        old router that does not say) takes the next plateau below the current size."""
        t = self.tcp
        cur = self.mss + 40
        if not mtu:
            for p in PMTU_PLATEAUS:
                if p < cur:
                    mtu = p
                    break
        if mtu < PMTU_MIN:
            mtu = PMTU_MIN  # RFC 5927 7.2: a forged tiny MTU must not cripple the flow
        mss = mtu - 40
        if mss >= self.mss:
            t.count("tcp_pmtu_ignored")
            return
        t.count("tcp_pmtu_lowered")
        self.mss_cap = mss
        self.mss = mss
        if self.state >= ESTABLISHED and self.snd_una != self.snd_max:
            # resend what is in flight at the new size: the path dropped it, no congestion
            self.rtt_seq = None
            self.snd_nxt = self.snd_una
            self.output()

    def unreachable(self, code):
        """ICMP destination unreachable (RFC 1122 4.2.3.9, RFC 5927): fatal while the
        connection is still opening (SYN_SENT), a soft error once it is synchronized."""
        if self.state == SYN_SENT:
            self.tcp.count("tcp_icmp_unreach_abort")
            self._drop(UNREACH_ERRNO.get(code, EHOSTUNREACH))
        else:
            self.tcp.count("tcp_icmp_soft_error")
            self.soft_error = UNREACH_ERRNO.get(code, EHOSTUNREACH)

    def abort(self):
        """Reset the connection now."""
        if self.state not in (CLOSED, TIME_WAIT, SYN_SENT):
            self.tcp._send_rst(self.lip, self.rip, self.lport, self.rport, self.snd_nxt, 0, 0)
        if self.state != CLOSED:
            self._drop(ECONNRESET)

    # ---- awaitable application interface -------------------------------------------------

    async def read(self, n=None):
        """Next bytes from the peer (at most n), b'' at EOF; OSError after a reset."""
        while True:
            d = self.recv_nowait(n)
            if d is not None:
                return d
            self._rd_wait = self.tcp.promise()
            await self._rd_wait

    async def write(self, data):
        """Queue all of data; waits while the send buffer is full."""
        mv = memoryview(data)
        off = 0
        total = len(mv)
        while off < total:
            k = self.send_nowait(mv[off:])
            off += k
            if off < total:
                self._wr_wait = self.tcp.promise()
                await self._wr_wait

    async def close(self):
        """Send FIN after the queued data; returns at once (the stack keeps retransmitting)."""
        self.shutdown()

    def __repr__(self):
        return "<Flow %s:%d %s>" % (self.peer[0], self.rport, STATE_NAMES[self.state])
