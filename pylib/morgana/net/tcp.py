"""TCP for the morgana stack: demultiplexing, listeners, active opens, timers, ISNs.

Interface with the IPv4 layer (morgana.net.stack):
    tcp = TCP(ip_output, local_ip_int, stats_dict, isn_secret, mtu=1500, mem_budget=None)
    tcp.input(src_ip_int, dst_ip_int, payload)   # protocol-6 payload, IP already checked
    ip_output(6, dst_ip_int, segment_bytes, src_ip_int)   # how TCP sends (sync, queues)
    tcp.local_ip = new_ip                         # the stack may change it (DHCP)
    tcp.icmp_error(kind, code, mtu, lip, rip, lport, rport, seq)   # a quoted segment
    tcp.memory() -> {"budget", "used", "max", "flows", "half_open", "time_wait", ...}
Application interface (the stack converts dotted strings to ints):
    tcp.listen(port, handler, backlog=None)  # async def handler(flow); plain functions too
    tcp.unlisten(port)
    flow = await tcp.connect(ip_int, port)  # OSError(ECONNREFUSED / ETIMEDOUT) on failure
    await flow.read(n=None) -> bytes, b'' at EOF;  await flow.write(b);  await flow.close()
    flow.abort();  flow.peer -> (ip_str, port);  flow.set_keepalive(idle, interval, count)
    close() sends FIN after the queued data and returns at once; reads go on until the
    peer's FIN (half-close). read/write raise OSError(ECONNRESET/ETIMEDOUT) after a reset.
Counters go to stats_dict under "tcp_*" names (drops are named by their reason).

Options: mtu (MSS = mtu - 40), rcvbuf / sndbuf per flow at most (window scale follows
rcvbuf), min_rto (0.2 s), msl (TIME_WAIT = 2 msl), keepalive=(idle, interval, count),
sack=True, mem_budget (bytes; default: half the free MicroPython heap, 64 MiB on CPython),
flow_cost, syncookies=True, max_half_open / max_flows / max_time_wait (default: from the
budget), challenge_acks_per_sec (per connection) / rsts_per_sec.
Loss recovery: NewReno + SACK holes, limited transmit, early retransmit, tail loss probes.

Timers: every flow keeps absolute deadlines; tick() runs the expired ones. In the kernel a
single timer task sleeps until the earliest deadline. Tests pass clock= (a function
returning seconds) and call tick() themselves, so nothing ever sleeps for real.

Memory: one budget for all connections. Each flow is charged flow_cost (its object and
the app's task) plus the bytes its buffers hold, each side's first MSS prepaid (so every
flow can always move a segment each way). A receive window offers what the buffer holds
plus a quarter of the spare memory (at most rcvbuf), so windows shrink as memory fills; a
segment that would take the flows past that is dropped (the peer retransmits it). Send
buffers grow only into spare memory. Growth stops an eighth short of the budget: the last
eighth is for new connections. A SYN (or a cookie's ACK, or connect()) that finds no room
evicts, in this order, the oldest TIME_WAIT entries and stalled flows (a silent peer with
data waiting, an orphan, a zero window held 10 s), else it is refused (dropped and
counted; the client retries) before anything could run out of memory. Half-open
connections are bounded per listener (backlog) and overall (max_half_open); beyond that
SYN cookies (RFC 4987) answer without keeping state. TIME_WAIT entries are bounded
(max_time_wait, the oldest goes first), and RST and challenge-ACK rates limited (RFC 5961
section 7; challenge ACKs per connection).

Timeouts (tcp_flow's constants): SYN and SYN-ACK 5 retransmissions (~63 s); data 12
retransmissions (~280 s with a 200 ms RTO); an orphan (its handler returned) at most 8, and
no more than 100 s after the peer's last segment (ORPHAN_SILENCE); a zero-window peer that
answers no probe for 60 s is reset (PERSIST_TIMEOUT); one that answers keeps its
connection (RFC 9293) unless it is an orphan (60 s of zero window) or memory is short;
FIN_WAIT_2 60 s without a segment from the peer (60 s in all for an orphan); TIME_WAIT
2 MSL = 60 s; keep-alive off unless asked for.
"""
import sys
from collections import OrderedDict
from heapq import heappush, heappop, heapify
from morgana.net import Drop
from morgana.net import tcp_wire
from morgana.net.tcp_wire import SYN, RST, ACK, FIN
from morgana.net.tcp_flow import (Flow, SYN_SENT, SYN_RCVD, ESTABLISHED, TIME_WAIT, CLOSED,
                                  STATE_NAMES, lt, le, ECONNREFUSED)
from morgana.net import tcp_isn
from morgana.net.tcp_isn import isn_function, cookie_function

EPHEMERAL_LO = 49152
EPHEMERAL_N = 16384
M = 0xFFFFFFFF
ENOBUFS = 105
MICROPYTHON = sys.implementation.name == "micropython"
# What one connection costs beyond its buffers, charged against the budget: the Flow object
# (1.6 KiB on 64-bit MicroPython, 2 KiB on CPython), its timer-heap entry and the app's task
# waiting on it (morgana.http: a coroutine, its frames and a small read buffer). Measured
# on unix-tap: 4.8-5.0 KiB of live MicroPython heap per idle keep-alive HTTP connection,
# 8.1 KiB per zero-window one holding its 1.2 KiB response (its charge: 6 KiB + 2 MSS).
FLOW_COST = 6144 if MICROPYTHON else 8192
CPYTHON_BUDGET = 64 << 20   # no heap size to derive from on CPython: a fixed default
HEAP_SHARE = 2              # MicroPython: the stack may use 1/2 of the heap free at start
COOKIE_RECENT = 2 * tcp_isn.COOKIE_SLOT  # validate ACKs as cookies this long after sending
RECLAIM_EVERY = 0.25        # at most this often a scan of the flow table for victims


def default_budget():
    """Bytes of connection memory for a stack created now: half of the free MicroPython
    heap, or CPYTHON_BUDGET on CPython (whose heap grows on demand)."""
    try:
        import gc
        gc.collect()
        free = gc.mem_free()
    except (ImportError, AttributeError):
        return CPYTHON_BUDGET
    return free // HEAP_SHARE


class Listener:
    def __init__(self, port, handler, backlog):
        self.port = port
        self.handler = handler
        self.backlog = backlog
        self.half = OrderedDict()  # key -> Flow in SYN_RCVD, oldest first
        self.cookie_t = None       # when this listener last answered a SYN with a cookie


class TCP:
    def __init__(self, ip_output, local_ip, stats, isn_secret, mtu=1500, clock=None,
                 spawn=None, rcvbuf=262144, sndbuf=131072, max_half_open=None,
                 max_flows=None, max_time_wait=None, msl=30.0, min_rto=0.2,
                 challenge_acks_per_sec=100, rsts_per_sec=100, keepalive=None, sack=True,
                 mem_budget=None, flow_cost=FLOW_COST, syncookies=True):
        if mtu < 68 + 40:
            raise ValueError("MTU too small for TCP: %d" % mtu)
        self.ip_output = ip_output
        self.local_ip = local_ip
        self.stats = stats
        self.mss = mtu - 40
        self.rcvbuf = rcvbuf
        self.sndbuf = sndbuf
        ws = 0
        while (rcvbuf >> ws) > 65535 and ws < 14:
            ws += 1
        self.rcv_ws = ws  # smallest shift that lets us advertise the whole buffer
        # the memory budget: every flow's charge (see Flow._charge) is summed in mem_used
        self.mem_budget = int(mem_budget) if mem_budget else default_budget()
        self.flow_cost = flow_cost
        self.mem_floor = flow_cost + 2 * self.mss   # a new flow's charge: object + 1 MSS each way
        self.mem_reserve = self.mem_budget // 8     # growth stops here: room for new flows
        self.mem_used = 0
        self.mem_max = 0
        fit = self.mem_budget // self.mem_floor      # flows that fit at their smallest
        if fit < 4:
            raise ValueError("mem_budget %d holds fewer than 4 connections" % self.mem_budget)
        self.default_backlog = max(16, min(256, fit // 32))
        self.max_half_open = max_half_open if max_half_open else max(16, min(1024, fit // 8))
        self.max_flows = max_flows if max_flows else fit
        self.max_time_wait = max_time_wait if max_time_wait else max(16, min(1024, fit // 8))
        self.syncookies = syncookies
        self.msl = msl
        self.min_rto = min_rto
        self.keepalive = keepalive  # (idle, interval, count) applied to new flows, or None
        self.sack = sack            # offer / accept SACK (RFC 2018)
        self.flows = {}             # (remote ip, remote port, local port) -> Flow
        self.listeners = {}
        self.half_open = 0
        self.time_wait = OrderedDict()
        self._isn = isn_function(isn_secret)
        self._cookie = cookie_function(isn_secret)
        self._test_clock = clock is not None
        if clock is None:
            from morgana import sched
            clock = sched.now
        self._clock = clock
        self._spawn = spawn
        self.cha_limit = challenge_acks_per_sec  # per flow and second (CVE-2016-5696)
        self._rst_limit = rsts_per_sec
        self._rst_t = -1.0
        self._rst_n = 0
        self._next_port = EPHEMERAL_LO + (self._isn(0, 0, 0, 0) % EPHEMERAL_N)
        self._timers = []           # heap of (deadline, n, key); stale entries skipped
        self._tn = 0
        self._timer_task = None
        self._kick = None
        self._wake_at = None
        self._victims = []          # keys of reclaim candidates from the last scan
        self._reclaim_t = -1e9

    # ---- infrastructure ------------------------------------------------------------------

    def now(self):
        return self._clock()

    def promise(self):
        from morgana import sched
        return sched.Promise()

    def count(self, name, n=1):
        s = self.stats
        s[name] = s.get(name, 0) + n

    def _send(self, flow, seq, ack, flags, wnd, opts, payload):
        seg = tcp_wire.build(flow.lip, flow.rip, flow.lport, flow.rport, seq, ack, flags, wnd,
                             opts, payload)
        self.count("tcp_out")
        self.ip_output(6, flow.rip, seg, flow.lip)

    def _send_rst(self, src, dst, sport, dport, seq, ack, flags):
        # RSTs are rate limited: a flood of stray segments must not become a flood back
        now = self.now()
        if now - self._rst_t >= 1.0:
            self._rst_t = now
            self._rst_n = 0
        if self._rst_n >= self._rst_limit:
            self.count("tcp_rst_limited")
            return
        self._rst_n += 1
        seg = tcp_wire.build(src, dst, sport, dport, seq, ack, RST | flags, 0)
        self.count("tcp_rst_out")
        self.ip_output(6, dst, seg, src)

    def _spawn_task(self, coro):
        if self._spawn is not None:
            return self._spawn(coro)
        from morgana import sched
        return sched.spawn(coro)

    # ---- memory --------------------------------------------------------------------------

    def _charged(self, delta):
        # Flow._charge reports every change of a flow's charge here
        u = self.mem_used + delta
        self.mem_used = u
        if u > self.mem_max:
            self.mem_max = u

    def spare(self):
        """Bytes flows may still grow their buffers by (negative: shrink)."""
        return self.mem_budget - self.mem_reserve - self.mem_used

    def _admit(self, need, passive=True):
        """Room for a new flow charged `need` (and, for one the peer opens, a place under
        max_flows)? Makes room when it can: the oldest TIME_WAIT entries first, then stalled
        flows (silent or zero-window peers, orphans)."""
        cap = self.max_flows if passive else 1 << 30
        if len(self.flows) < cap and self.mem_used + need <= self.mem_budget:
            return True
        tw = self.time_wait
        while tw and (len(self.flows) >= cap or self.mem_used + need > self.mem_budget):
            # a new connection is worth more than an old one's protection from duplicates
            self.count("tcp_time_wait_evicted")
            tw[next(iter(tw))]._drop(0)
        while len(self.flows) >= cap or self.mem_used + need > self.mem_budget:
            v = self._victim()
            if v is None:
                return False
            self.count("tcp_evicted_stalled")
            v.abort()
        return True

    def _victim(self):
        # the most stalled flow, from a scan at most every RECLAIM_EVERY seconds
        now = self.now()
        vs = self._victims  # keys, not flows: a stale entry keeps no dead flow alive
        while vs:
            f = self.flows.get(vs.pop())
            if f is not None and f.stall_rank(now):
                return f
        if now - self._reclaim_t < RECLAIM_EVERY:
            return None
        self._reclaim_t = now
        cands = []
        for f in self.flows.values():
            r = f.stall_rank(now)
            if r:
                cands.append((r, f.last_rx, f))
        if not cands:
            return None
        cands.sort(key=lambda c: (c[0], c[1]))
        # keep the 32 worst-behaved, the worst last (for pop)
        vs.extend([c[2].key for c in cands[31::-1]])
        return self.flows[vs.pop()]

    def memory(self):
        """The memory summary: budget, what the flows hold, the high-water mark, counts,
        and the flows by state ("states": "ESTABLISHED:3,TIME_WAIT:1", one word)."""
        n = {}
        for f in self.flows.values():
            k = f.state
            n[k] = n.get(k, 0) + 1
        states = ",".join("%s:%d" % (STATE_NAMES[k], n[k]) for k in sorted(n))
        return {"budget": self.mem_budget, "used": self.mem_used, "max": self.mem_max,
                "flows": len(self.flows), "half_open": self.half_open,
                "time_wait": len(self.time_wait), "max_flows": self.max_flows,
                "flow_cost": self.flow_cost, "states": states or "-"}

    # ---- timers --------------------------------------------------------------------------
    # A heap of (deadline, n, key). A flow keeps one live entry (flow.sched_at): a later
    # deadline leaves the entry where it is and is found when the entry fires, an earlier
    # one pushes a new entry (the old one goes stale). So re-arming the retransmission
    # timer on every ACK costs nothing, and a tick touches only the flows that are due.
    # Entries name flows by key, so a stale one keeps no closed flow (or its buffers)
    # alive: an entry is live when the flow now under its key has sched_at == its deadline.

    def _schedule(self, flow, deadline):
        s = flow.sched_at
        if s is not None and s <= deadline:
            return
        flow.sched_at = deadline
        self._tn += 1
        heappush(self._timers, (deadline, self._tn, flow.key))
        if len(self._timers) > 2 * len(self.flows) + 64:
            self._rebuild_timers()
        self._timer_changed(deadline)

    def _rebuild_timers(self):
        h = []
        for f in self.flows.values():
            if f.sched_at is not None:
                self._tn += 1
                h.append((f.sched_at, self._tn, f.key))
        heapify(h)
        self._timers = h

    def next_deadline(self):
        h = self._timers
        flows = self.flows
        while h:
            t, _, k = h[0]
            f = flows.get(k)
            if f is not None and f.sched_at == t:
                return t
            heappop(h)  # stale
        return None

    def tick(self):
        """Run every expired flow timer (each flow once per tick)."""
        now = self.now() + 1e-6  # float deadlines within a microsecond count as due
        h = self._timers
        flows = self.flows
        due = []
        while h and h[0][0] <= now:
            t, _, k = heappop(h)
            f = flows.get(k)
            if f is not None and f.sched_at == t:
                f.sched_at = None
                due.append(f)
        for f in due:
            if f.state == CLOSED:
                continue
            d = f.deadline
            if d is not None and d <= now:
                f.on_timer(now)
                d = f.deadline
            if d is not None and f.state != CLOSED:
                self._schedule(f, d)

    def _timer_changed(self, deadline):
        if self._test_clock:
            return  # test mode: the test drives tick()
        if self._timer_task is None:
            self._timer_task = self._spawn_task(self._timer_loop())
        if self._wake_at is None or deadline < self._wake_at:
            k = self._kick
            if k is not None and not k.done():
                k.wakeup(None)

    async def _timer_loop(self):
        from morgana import sched
        while True:
            d = self.next_deadline()
            self._wake_at = d
            self._kick = sched.Promise()
            try:
                if d is None:
                    await self._kick
                else:
                    delay = d - sched.now()
                    if delay > 1e-6:
                        await sched.with_timeout(delay, self._kick)
            except sched.Timeout:
                pass
            self._kick = None
            self._wake_at = None
            try:
                self.tick()
            except Exception as e:  # a bug in one flow's timer must not stop all timers
                self.count("tcp_timer_exception")
                if self.stats["tcp_timer_exception"] <= 3:
                    print("tcp: timer failed: %r" % (e,))

    # ---- flow table ----------------------------------------------------------------------

    def _add(self, flow):
        self.flows[flow.key] = flow
        flow._charge()

    def _remove(self, flow):
        k = flow.key
        if self.flows.get(k) is flow:
            del self.flows[k]
        lst = flow.listener
        if lst is not None and k in lst.half:
            del lst.half[k]
            self.half_open -= 1
        if k in self.time_wait:
            del self.time_wait[k]
        flow._charge()  # CLOSED: back to zero

    def _established(self, flow):
        lst = flow.listener
        if lst is None:
            return
        if flow.key in lst.half:
            del lst.half[flow.key]
            self.half_open -= 1
        self.count("tcp_accepted")
        r = lst.handler(flow)
        if r is not None and hasattr(r, "send"):
            self._spawn_task(self._serve(r, flow))

    async def _serve(self, coro, flow):
        # an app handler that fails must not take the stack down: reset its flow
        try:
            await coro
        except Exception as e:
            self.count("tcp_handler_error")
            if isinstance(e, MemoryError):
                self.count("tcp_handler_memory_error")
            print("tcp: handler for %s failed: %r" % (flow.peer, e))
            flow.abort()
            return
        flow.orphan()

    def _time_wait(self, flow):
        tw = self.time_wait
        tw[flow.key] = flow
        while len(tw) > self.max_time_wait:
            k = next(iter(tw))
            self.count("tcp_time_wait_evicted")
            tw[k]._drop(0)

    # ---- input ---------------------------------------------------------------------------

    def input(self, src, dst, payload):
        self.count("tcp_in")
        try:
            seg = tcp_wire.parse(src, dst, payload)
        except Drop as e:
            self.count(e.reason)
            return
        if dst == 0xFFFFFFFF or (dst >> 28) == 14 or (src >> 28) >= 14 or src == 0:
            self.count("tcp_bad_addr")  # never answer broadcast / multicast / martians
            return
        key = (src, seg.sport, seg.dport)
        f = self.flows.get(key)
        if f is not None:
            if (f.state == TIME_WAIT and seg.flags & (SYN | ACK | RST) == SYN
                    and lt(f.rcv_nxt, seg.seq)):
                f._drop(0)  # a new incarnation may reuse a TIME_WAIT pair (RFC 9293 3.6.1)
            elif (f.state == SYN_RCVD and seg.flags & (SYN | RST | ACK) == ACK
                  and seg.ack != f.snd_max
                  and self._cookie_ack(f.listener, src, dst, seg, f) is not None):
                return  # the ACK of an earlier cookie SYN-ACK, not of this flow's
            else:
                f.on_segment(seg)
                f._charge()
                return
        self._no_flow(src, dst, seg)

    def _no_flow(self, src, dst, seg):
        fl = seg.flags
        if fl & RST:
            self.count("tcp_rst_no_flow")
            return
        lst = self.listeners.get(seg.dport)
        if lst is not None and fl & (ACK | SYN) == ACK:
            if self._cookie_ack(lst, src, dst, seg) is not None:
                return
        if lst is None or fl & ACK or not fl & SYN or fl & FIN:
            self.count("tcp_no_flow")
            if fl & ACK:
                self._send_rst(dst, src, seg.dport, seg.sport, seg.ack, 0, 0)
            else:
                self._send_rst(dst, src, seg.dport, seg.sport, 0,
                               (seg.seq + seg.seglen()) & 0xFFFFFFFF, ACK)
            return
        self._syn(lst, src, dst, seg)

    def _syn(self, lst, src, dst, seg):
        key = (src, seg.sport, seg.dport)
        self.count("tcp_syn_in")
        if len(lst.half) >= lst.backlog or self.half_open >= self.max_half_open:
            if self.syncookies:
                self._send_cookie(lst, src, dst, seg)
            else:
                self.count("tcp_syn_drop")
            return
        if not self._admit(self.mem_floor):
            # refused (the client retries its SYN): the flow table or the budget is full
            self.count("tcp_syn_drop_memory" if self.mem_used + self.mem_floor
                       > self.mem_budget else "tcp_syn_drop_flows")
            return
        iss = self._isn_for(dst, seg.dport, src, seg.sport)
        f = Flow(self, dst, seg.dport, src, seg.sport, iss, SYN_RCVD)
        f.listener = lst
        self._add(f)
        lst.half[key] = f
        self.half_open += 1
        f.open_passive(seg)

    # ---- SYN cookies (RFC 4987): the handshake without state once the backlog is full ----

    def _cookie_count(self):
        return int(self.now() / tcp_isn.COOKIE_SLOT)

    def _send_cookie(self, lst, src, dst, seg):
        sack = seg.sack_ok and self.sack
        opts = tcp_isn.cookie_options(seg.mss, seg.wscale, sack)
        iss = tcp_isn.make_cookie(self._cookie, self._cookie_count(), dst, seg.dport, src,
                                  seg.sport, seg.seq, opts)
        lst.cookie_t = self.now()
        self.count("tcp_syn_cookie_sent")
        ws = self.rcv_ws if seg.wscale is not None else None
        wnd = self.mss  # what the flow open_cookie makes will hold: its first MSS
        out = tcp_wire.build(dst, src, seg.dport, seg.sport, iss, (seg.seq + 1) & M,
                             SYN | ACK, wnd, tcp_wire.syn_options(self.mss, ws, sack))
        self.count("tcp_out")
        self.ip_output(6, src, out, dst)

    def _cookie_ack(self, lst, src, dst, seg, half=None):
        """An ACK for no flow (or one that does not fit `half`, the half-open flow of its
        4-tuple) on a listener that sent cookies lately: True when it carries a valid cookie
        and the connection is made, False when it is valid but there is no room, None to
        treat it as stray (or as half's). A valid one replaces half: the client's SYN was
        answered twice, by a cookie and, on its retransmission, by half's SYN-ACK, and the
        client took the cookie; half's answer to it would be a reset."""
        if lst is None or lst.cookie_t is None or self.now() - lst.cookie_t >= COOKIE_RECENT:
            return None
        irs = (seg.seq - 1) & M
        opts = tcp_isn.check_cookie(self._cookie, self._cookie_count(), dst, seg.dport, src,
                                    seg.sport, irs, (seg.ack - 1) & M)
        if opts is None:
            self.count("tcp_syn_cookie_bad")
            return None
        if half is not None:
            self.count("tcp_syn_cookie_over_half_open")
            half._drop(0)
        if not self._admit(self.mem_floor):
            # not reset: the client retransmits its data (or this ACK with it) and gets in
            # once there is room, like a SYN that finds no room
            self.count("tcp_syn_cookie_no_room")
            return False
        self.count("tcp_syn_cookie_ok")
        mss, wscale, sack = tcp_isn.decode_options(opts)
        f = Flow(self, dst, seg.dport, src, seg.sport, (seg.ack - 1) & M, ESTABLISHED)
        f.listener = lst
        self._add(f)
        f.open_cookie(seg, irs, mss, wscale, sack)
        f._charge()
        return True

    def _isn_for(self, lip, lport, rip, rport):
        # RFC 6528: a 4 microsecond clock plus a keyed hash of the connection's 4-tuple
        m = int(self.now() * 250000)
        return (m + self._isn(lip, lport, rip, rport)) & 0xFFFFFFFF

    # ---- ICMP errors (RFC 5927) ----------------------------------------------------------

    def icmp_error(self, kind, code, mtu, lip, rip, lport, rport, seq):
        """An ICMP error quoting a segment we sent from lip:lport to rip:rport with sequence
        number seq. kind is "frag" (fragmentation needed; mtu the next hop's MTU, 0 when
        the router did not say) or "unreach" (destination unreachable, ICMP code code).
        Acted on only when the quote matches a flow and seq lies in SND.UNA..SND.NXT, which
        an off-path attacker has to guess."""
        f = self.flows.get((rip, rport, lport))
        if f is None or f.lip != lip or f.state == TIME_WAIT:
            self.count("tcp_icmp_no_flow")
            return
        if f.state == SYN_SENT:
            ok = seq == f.iss
        else:
            ok = le(f.snd_una, seq) and lt(seq, f.snd_max)
        if not ok:
            self.count("tcp_icmp_bad_seq")
            return
        if kind == "frag":
            f.path_mtu(mtu)
        else:
            f.unreachable(code)

    # ---- application ---------------------------------------------------------------------

    def listen(self, port, handler, backlog=None):
        """handler(flow) for each connection to port; backlog: half-open connections kept
        before SYN cookies take over (None: sized from the memory budget)."""
        if not 0 < port < 65536:
            raise ValueError("bad TCP port %r" % (port,))
        if port in self.listeners:
            raise OSError(98)  # EADDRINUSE
        if backlog is None:
            backlog = self.default_backlog
        if backlog < 1:
            raise ValueError("backlog must be >= 1")
        self.listeners[port] = Listener(port, handler, backlog)

    def unlisten(self, port):
        self.listeners.pop(port, None)

    def unacked(self):
        """Flows whose data or FIN the peer has not acknowledged yet."""
        return [f for f in self.flows.values() if f.unacked()]

    def _ephemeral(self, rip, rport):
        for _ in range(EPHEMERAL_N):
            p = self._next_port
            self._next_port = EPHEMERAL_LO + ((p - EPHEMERAL_LO + 1) % EPHEMERAL_N)
            if (rip, rport, p) not in self.flows and p not in self.listeners:
                return p
        raise OSError(99)  # EADDRNOTAVAIL

    def open(self, ip, port, lport=None):
        """Start an active open; returns the Flow in SYN_SENT (sync half of connect)."""
        if not 0 < port < 65536:
            raise ValueError("bad TCP port %r" % (port,))
        if not self.local_ip:
            raise OSError(101)  # ENETUNREACH: no address yet
        if lport is None:
            lport = self._ephemeral(ip, port)
        key = (ip, port, lport)
        if key in self.flows:
            raise OSError(98)
        if not self._admit(self.mem_floor, False):
            self.count("tcp_connect_no_memory")
            raise OSError(ENOBUFS)
        f = Flow(self, self.local_ip, lport, ip, port,
                 self._isn_for(self.local_ip, lport, ip, port), SYN_SENT)
        self._add(f)
        f.open_active()
        return f

    async def connect(self, ip, port, lport=None):
        f = self.open(ip, port, lport)
        while f.state == SYN_SENT or f.state == SYN_RCVD:
            f._conn_wait = self.promise()
            await f._conn_wait
        if f.error:
            raise OSError(f.error)
        if f.state == CLOSED:
            raise OSError(ECONNREFUSED)
        return f
