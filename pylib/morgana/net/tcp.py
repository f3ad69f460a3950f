"""TCP for the morgana stack: demultiplexing, listeners, active opens, timers, ISNs.

Interface with the IPv4 layer (morgana.net.stack):
    tcp = TCP(ip_output, local_ip_int, stats_dict, isn_secret, mtu=1500)
    tcp.input(src_ip_int, dst_ip_int, payload)   # protocol-6 payload, IP already checked
    ip_output(6, dst_ip_int, segment_bytes, src_ip_int)   # how TCP sends (sync, queues)
    tcp.local_ip = new_ip                         # the stack may change it (DHCP)
Application interface (the stack converts dotted strings to ints):
    tcp.listen(port, handler, backlog=16)  # async def handler(flow); plain functions too
    tcp.unlisten(port)
    flow = await tcp.connect(ip_int, port)  # OSError(ECONNREFUSED / ETIMEDOUT) on failure
    await flow.read(n=None) -> bytes, b'' at EOF;  await flow.write(b);  await flow.close()
    flow.abort();  flow.peer -> (ip_str, port);  flow.set_keepalive(idle, interval, count)
    close() sends FIN after the queued data and returns at once; reads go on until the
    peer's FIN (half-close). read/write raise OSError(ECONNRESET/ETIMEDOUT) after a reset.
Counters go to stats_dict under "tcp_*" names (drops are named by their reason).

Options: mtu (MSS = mtu - 40), rcvbuf / sndbuf per flow (window scale follows rcvbuf),
min_rto (0.2 s), msl (TIME_WAIT = 2 msl), keepalive=(idle, interval, count), sack=True,
max_half_open / max_flows / max_time_wait, challenge_acks_per_sec / rsts_per_sec.
Loss recovery: NewReno + SACK holes, limited transmit, early retransmit, tail loss probes.

Timers: every flow keeps absolute deadlines; tick() runs the expired ones. In the kernel a
single timer task sleeps until the earliest deadline. Tests pass clock= (a function
returning seconds) and call tick() themselves, so nothing ever sleeps for real.

Memory bounds: half-open connections per listener (backlog) and overall (max_half_open;
the oldest is evicted so a SYN flood cannot lock out real clients), flows in any state
(max_flows), TIME_WAIT entries (max_time_wait, the oldest goes first), out-of-order data
per flow (its receive window), and RST / challenge-ACK rates (RFC 5961 section 7).
"""
from collections import OrderedDict
from morgana.net import Drop
from morgana.net import tcp_wire
from morgana.net.tcp_wire import SYN, RST, ACK, FIN
from morgana.net.tcp_flow import (Flow, SYN_SENT, SYN_RCVD, TIME_WAIT, CLOSED, lt,
                                  ECONNREFUSED)
from morgana.net.tcp_isn import isn_function

EPHEMERAL_LO = 49152
EPHEMERAL_N = 16384


class Listener:
    def __init__(self, port, handler, backlog):
        self.port = port
        self.handler = handler
        self.backlog = backlog
        self.half = OrderedDict()  # key -> Flow in SYN_RCVD, oldest first


class TCP:
    def __init__(self, ip_output, local_ip, stats, isn_secret, mtu=1500, clock=None,
                 spawn=None, rcvbuf=262144, sndbuf=131072, max_half_open=256,
                 max_flows=4096, max_time_wait=1024, msl=30.0, min_rto=0.2,
                 challenge_acks_per_sec=100, rsts_per_sec=100, keepalive=None, sack=True):
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
        self.max_half_open = max_half_open
        self.max_flows = max_flows
        self.max_time_wait = max_time_wait
        self.msl = msl
        self.min_rto = min_rto
        self.keepalive = keepalive  # (idle, interval, count) applied to new flows, or None
        self.sack = sack            # offer / accept SACK (RFC 2018)
        self.flows = {}             # (remote ip, remote port, local port) -> Flow
        self.listeners = {}
        self.half_open = 0
        self.time_wait = OrderedDict()
        self._isn = isn_function(isn_secret)
        self._test_clock = clock is not None
        if clock is None:
            from morgana import sched
            clock = sched.now
        self._clock = clock
        self._spawn = spawn
        self._cha_limit = challenge_acks_per_sec
        self._cha_t = -1.0
        self._cha_n = 0
        self._rst_limit = rsts_per_sec
        self._rst_t = -1.0
        self._rst_n = 0
        self._next_port = EPHEMERAL_LO + (self._isn(0, 0, 0, 0) % EPHEMERAL_N)
        self._timer_task = None
        self._kick = None
        self._wake_at = None

    # ---- infrastructure ------------------------------------------------------------------

    def now(self):
        return self._clock()

    def promise(self):
        from morgana import sched
        return sched.Promise()

    def count(self, name):
        s = self.stats
        s[name] = s.get(name, 0) + 1

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

    def _challenge_ok(self):
        now = self.now()
        if now - self._cha_t >= 1.0:
            self._cha_t = now
            self._cha_n = 0
        if self._cha_n >= self._cha_limit:
            return False
        self._cha_n += 1
        return True

    def _spawn_task(self, coro):
        if self._spawn is not None:
            return self._spawn(coro)
        from morgana import sched
        return sched.spawn(coro)

    # ---- timers --------------------------------------------------------------------------

    def next_deadline(self):
        d = None
        for f in self.flows.values():
            t = f.deadline
            if t is not None and (d is None or t < d):
                d = t
        return d

    def tick(self):
        """Run every expired flow timer."""
        now = self.now() + 1e-6  # float deadlines within a microsecond count as due
        for f in list(self.flows.values()):
            t = f.deadline
            if t is not None and t <= now and f.state != CLOSED:
                f.on_timer(now)

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
            print("tcp: handler for %s failed: %r" % (flow.peer, e))
            flow.abort()
            return
        flow.shutdown()

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
            else:
                f.on_segment(seg)
                return
        self._no_flow(src, dst, seg)

    def _no_flow(self, src, dst, seg):
        fl = seg.flags
        if fl & RST:
            self.count("tcp_rst_no_flow")
            return
        lst = self.listeners.get(seg.dport)
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
        if len(self.flows) >= self.max_flows:
            self.count("tcp_syn_drop_flows")
            return
        if len(lst.half) >= lst.backlog or self.half_open >= self.max_half_open:
            if not lst.half:
                self.count("tcp_syn_drop")
                return
            old = lst.half[next(iter(lst.half))]
            self.count("tcp_syn_evicted")
            old._drop(0)
        iss = self._isn_for(dst, seg.dport, src, seg.sport)
        f = Flow(self, dst, seg.dport, src, seg.sport, iss, SYN_RCVD)
        f.listener = lst
        self.flows[key] = f
        lst.half[key] = f
        self.half_open += 1
        self.count("tcp_syn_in")
        f.open_passive(seg)

    def _isn_for(self, lip, lport, rip, rport):
        # RFC 6528: a 4 microsecond clock plus a keyed hash of the connection's 4-tuple
        m = int(self.now() * 250000)
        return (m + self._isn(lip, lport, rip, rport)) & 0xFFFFFFFF

    # ---- application ---------------------------------------------------------------------

    def listen(self, port, handler, backlog=16):
        if not 0 < port < 65536:
            raise ValueError("bad TCP port %r" % (port,))
        if port in self.listeners:
            raise OSError(98)  # EADDRINUSE
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
        f = Flow(self, self.local_ip, lport, ip, port,
                 self._isn_for(self.local_ip, lport, ip, port), SYN_SENT)
        self.flows[key] = f
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
