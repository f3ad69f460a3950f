"""The direct TCP/IP stack: wires ethernet/arp/ipv4/icmp/udp/tcp/dhcp to one netif.

    stack = Stack(netif, ip='10.0.0.2', netmask='255.255.255.0', gateway='10.0.0.1')
    stack = Stack(netif, dhcp=True, fallback=('10.0.0.2', '255.255.255.0', None))
    await stack.start()          # spawns rx/tx/timer tasks; with dhcp waits for a lease

App API (same as socket_stack, see docs/design.md): listen(port, handler, backlog=None),
unlisten(port), await connect(ip, port), udp_listen(port, handler), await udp_send(data,
ip, port, src_port), and here also udp_send_nowait(...) -> True.
Also: udp_unlisten(port), stop(), await flush() (until every byte sent is acknowledged),
set_address(ip, netmask, gateway) (gratuitous ARP on a change; ip=None drops the address),
stats (dict of counters), memory() (the budget and what uses it), await log_stats(seconds,
log) (both, periodically: the STATS option), tcp=False leaves TCP out, mem_budget=bytes for
TCP's connections (default: from the heap).

Contract with TCP (morgana.net.tcp):
  - constructed as tcp.TCP(ip_output, local_ip_int, stats_dict, isn_secret_bytes, mtu=...)
    once the stack has an address; when the address changes later the stack sets `tcp.local_ip`.
  - ip_output(proto, dst_ip_int, payload, src_ip_int=None) is synchronous: it queues the
    frame(s) for the netif, or parks them in the bounded ARP-pending queue; never blocks,
    never raises for network reasons (drops are counted in stats).
  - incoming protocol-6 payloads (checksummed, reassembled IP) go to
    tcp.input(src_ip_int, dst_ip_int, payload_memoryview).
  - listen(port, handler, backlog) -> tcp.listen(port, handler, backlog);
    connect(ip, port) -> await tcp.connect(ip_int, port).
  - ICMP errors quoting a TCP segment we sent go to tcp.icmp_error(...) (RFC 5927: TCP
    checks the quote against its flows); TCP segments leave with DF set (RFC 1191).
Every dropped input bumps a counter in `stack.stats` (a plain dict shared with TCP).
"""
from morgana import entropy, sched
from morgana import net
from morgana.net import Drop, arp, ethernet, icmp, ipv4, udp
from morgana.net.addr import BROADCAST_MAC, ZERO_MAC, ip_to_int, int_to_ip, netmask_to_prefix

EPHEMERAL_LO = 49152
TX_QUEUE = 1024
ICMP_ERRORS_PER_SEC = 100


class Stack:
    def __init__(self, netif, ip=None, netmask="255.255.255.0", gateway=None, dhcp=False,
                 fallback=None, isn_secret=None, tcp=True, mem_budget=None):
        if not dhcp and ip is None:
            raise ValueError("Stack needs ip=... or dhcp=True")
        self.netif = netif
        self.mac = bytes(netif.mac)
        self.mtu = getattr(netif, "mtu", 1500)
        self.stats = {}
        self.ip = 0
        self.netmask = 0
        self.gateway = 0
        self.broadcast = 0xFFFFFFFF
        self._static = None if dhcp else (ip, netmask, gateway)
        self._dhcp = dhcp
        self.fallback = fallback
        self.dhcp = None  # the DhcpClient, when dhcp=True
        self.arp = arp.ArpTable()
        self.frags = ipv4.Reassembler()
        self.udp_handlers = {}
        self.tcp = None
        self._want_tcp = tcp
        self._mem_budget = mem_budget
        self._isn_secret = isn_secret if isn_secret is not None else _random_secret()
        self._ident = 0
        self._ephemeral = EPHEMERAL_LO
        self._icmp_budget = ICMP_ERRORS_PER_SEC
        self._txq = sched.Queue(TX_QUEUE)
        self._write_nowait = getattr(netif, "write_nowait", None)  # optional, -> bool
        self._tx_busy = False   # the tx task holds a frame the device has not taken yet
        self._tasks = []
        self.address_changed = sched.Promise()  # woken by the first address (start waits)
        if self._static:
            self.set_address(ip, netmask, gateway, announce=False)

    # --- lifecycle ------------------------------------------------------------------
    async def start(self, timeout=None):
        push = getattr(self.netif, "set_receiver", None)
        if push is not None:
            push(self.input)    # frames arrive by call (netfront): no rx task
        else:
            self._tasks.append(sched.spawn(self._rx_loop()))
        self._tasks.append(sched.spawn(self._tx_loop()))
        self._tasks.append(sched.spawn(self._timer_loop()))
        if self.ip:
            self.gratuitous_arp()
        if self._dhcp:
            from morgana.net import dhcp
            self.dhcp = dhcp.DhcpClient(self, fallback=self.fallback)
            self._tasks.append(sched.spawn(self.dhcp.run()))
            if timeout is None:
                await self.address_changed
            else:
                await sched.with_timeout(timeout, self.address_changed)

    def stop(self):
        if getattr(self.netif, "set_receiver", None) is not None:
            self.netif.set_receiver(None)
        for t in self._tasks:
            t.cancel()
        self._tasks = []

    def set_address(self, ip, netmask="255.255.255.0", gateway=None, announce=True):
        """Configure (or with ip=None, drop) our address; announces it by gratuitous ARP."""
        ip = ip_to_int(ip) if ip is not None else 0
        mask = ip_to_int(netmask) if netmask is not None else 0
        netmask_to_prefix(mask)  # raises on a non-contiguous mask
        gw = ip_to_int(gateway) if gateway else 0
        if gw and ip and (gw & mask) != (ip & mask):
            raise ValueError("gateway %s is not on %s/%s" % (int_to_ip(gw), int_to_ip(ip),
                                                            int_to_ip(mask)))
        changed = ip != self.ip
        self.ip, self.netmask, self.gateway = ip, mask, gw
        self.broadcast = (ip | (~mask & 0xFFFFFFFF)) if ip else 0xFFFFFFFF
        if ip and self._want_tcp:
            if self.tcp is None:
                self._make_tcp()
            elif changed:
                self.tcp.local_ip = ip
        if changed and ip and announce:
            self.gratuitous_arp()
        if ip and not self.address_changed.done():
            self.address_changed.wakeup(ip)

    def _make_tcp(self):
        try:
            from morgana.net import tcp
        except ImportError:
            return  # TCP not built in: UDP/ICMP still work
        self.tcp = tcp.TCP(self.ip_output, self.ip, self.stats, self._isn_secret, mtu=self.mtu,
                           mem_budget=self._mem_budget)
        # IP reassembly holds at most an eighth of what TCP may (256 KiB at most)
        b = self.tcp.mem_budget >> 3
        if b < self.frags.max_bytes:
            self.frags.max_bytes = b if b > 2 * ipv4.MAX_DATAGRAM else 2 * ipv4.MAX_DATAGRAM

    # --- app API --------------------------------------------------------------------
    def listen(self, port, handler, backlog=None):
        """handler(flow) for each connection to port; backlog: half-open connections
        before SYN cookies (None: sized from the memory budget)."""
        self._need_tcp().listen(port, handler, backlog)

    def unlisten(self, port):
        if self.tcp is not None:
            self.tcp.unlisten(port)

    async def connect(self, ip, port):
        return await self._need_tcp().connect(ip_to_int(ip), port)

    async def flush(self, reason=None, poll=0.02):
        """Shutdown hook (morgana.boot registers it last): accept no more connections,
        then return once every byte and FIN sent is acknowledged (the grace time cuts
        it short: a peer that stopped reading is not waited for beyond it)."""
        t = self.tcp
        if t is None:
            return
        t.listeners.clear()
        while t.unacked():
            await sched.sleep(poll)

    def _need_tcp(self):
        if self.tcp is None:
            raise OSError("TCP is not available (no address yet, or tcp module missing)")
        return self.tcp

    def udp_listen(self, port, handler):
        if not 0 < port < 65536:
            raise ValueError("bad UDP port %r" % (port,))
        if port in self.udp_handlers:
            raise OSError("UDP port %d already bound" % port)
        self.udp_handlers[port] = handler

    def udp_unlisten(self, port):
        self.udp_handlers.pop(port, None)

    async def udp_send(self, data, ip, port, src_port=None):
        self.udp_send_nowait(data, ip, port, src_port)

    def udp_send_nowait(self, data, ip, port, src_port=None):
        """udp_send without the await: this stack never waits to send (best effort, drops
        counted), so a synchronous UDP handler can answer from inside itself."""
        if src_port is None:
            src_port = self._next_ephemeral()
        self.udp_output(self.ip, ip_to_int(ip), src_port, port, data)
        return True

    def memory(self):
        """What the stack holds against its budget: TCP's summary (budget, used, max,
        flows, half_open, time_wait...), IP reassembly and the transmit queue, and on
        MicroPython the heap (heap_used, heap_free)."""
        m = self.tcp.memory() if self.tcp is not None else {}
        m["frag_held"] = self.frags.held
        m["tx_queue"] = len(self._txq)
        net.heap_into(m)
        return m

    async def log_stats(self, every, log):
        """Log memory() and the counters that moved, every `every` seconds, forever; on
        MicroPython after a garbage collection, so heap_used is the live heap."""
        await net.log_stats(self, every, log)

    def _next_ephemeral(self):
        p = self._ephemeral
        self._ephemeral = p + 1 if p < 65535 else EPHEMERAL_LO
        return p

    # --- output ---------------------------------------------------------------------
    def _count(self, key, n=1):
        self.stats[key] = self.stats.get(key, 0) + n

    def udp_output(self, src, dst, sport, dport, data):
        self.ip_output(udp.PROTO, dst, udp.build(src, dst, sport, dport, data), src)

    def ip_output(self, proto, dst, payload, src=None):
        if src is None:
            src = self.ip
        if dst == self.ip and dst:
            self._loopback(proto, src, payload)
            return
        if dst == 0xFFFFFFFF or dst == self.broadcast:
            nh, mac = dst, BROADCAST_MAC
        else:
            nh = ipv4.next_hop(dst, self.ip, self.netmask, self.gateway)
            if nh is None:
                self._count("ipv4_no_route")
                return
            mac = self.arp.lookup(nh, sched.now())
        self._ident = (self._ident + 1) & 0xFFFF
        n = len(payload)
        if mac is not None and n + ipv4.HEADER_LEN <= self.mtu:
            # the common case, one allocation and one copy of the payload
            frame = bytearray(34 + n)
            frame[0:6] = mac
            frame[6:12] = self.mac
            frame[12] = 8  # ETH_IPV4
            ipv4.header_into(frame, 14, src, dst, proto, n, self._ident, 64,
                             proto == ipv4.PROTO_TCP)
            frame[34:] = payload
            self._queue(frame)
            return
        try:
            pkts = ipv4.packets(src, dst, proto, payload, self._ident, self.mtu, 64,
                                proto == ipv4.PROTO_TCP)
        except ValueError:
            self._count("ipv4_tx_too_big")
            return
        if mac is not None:
            for p in pkts:
                self._send(mac, ethernet.ETH_IPV4, p)
            return
        now = sched.now()
        for p in pkts:
            r = self.arp.park(nh, p, now)
            if r == "probe":
                self._arp_request(nh)
            elif r == "dropped":
                self._count("arp_pending_drop")

    def _loopback(self, proto, src, payload):
        # to our own address: delivered from a task of its own, never re-entrantly
        self._ident = (self._ident + 1) & 0xFFFF
        pkt = ipv4.packets(src, self.ip, proto, payload, self._ident, ipv4.MAX_DATAGRAM)[0]
        self._count("loopback")
        sched.spawn(self._local_input(pkt))

    async def _local_input(self, pkt):
        try:
            self._ipv4_input(memoryview(pkt), True)
        except Drop as e:
            self._count(e.reason)

    def _send(self, dst_mac, ethertype, payload):
        self._queue(ethernet.header(dst_mac, self.mac, ethertype) + payload)

    def _queue(self, frame):
        # straight to the device when it can take the frame now and nothing is queued
        # before it (order kept): no queue, no wakeup, no switch to the tx task per frame
        w = self._write_nowait
        if w is not None and not self._tx_busy and not len(self._txq) and w(frame):
            self._count("tx_frames")
            return
        if self._txq.put_nowait(frame):
            self._count("tx_frames")
        else:
            self._count("tx_queue_full")

    def _arp_request(self, ip):
        self._send(BROADCAST_MAC, ethernet.ETH_ARP,
                   arp.build(arp.REQUEST, self.mac, self.ip, ZERO_MAC, ip))

    def gratuitous_arp(self):
        self._count("arp_gratuitous")
        self._send(BROADCAST_MAC, ethernet.ETH_ARP,
                   arp.build(arp.REQUEST, self.mac, self.ip, ZERO_MAC, self.ip))

    # --- input ----------------------------------------------------------------------
    def input(self, frame):
        """Handle one received frame. Never raises: malformed input is counted."""
        self._count("rx_frames")
        try:
            dst, src, etype, payload = ethernet.parse(frame)
            if dst != self.mac and dst != BROADCAST_MAC:
                # multicast (IPv6 ND, mDNS...) is normal chatter; unicast elsewhere is not
                raise Drop("eth_multicast" if dst[0] & 1 else "eth_not_for_us")
            if etype == ethernet.ETH_IPV4:
                self._ipv4_input(payload)
            elif etype == ethernet.ETH_ARP:
                self._arp_input(payload)
            else:
                raise Drop("eth_unknown_type")
        except Drop as e:
            self._count(e.reason)
        except Exception as e:  # a bug must not take the stack down: count and go on
            self._count("rx_exception")
            if self.stats["rx_exception"] <= 3:
                _print_exc(e)

    def _arp_input(self, buf):
        op, sha, spa, tha, tpa = arp.parse(buf)
        now = sched.now()
        if sha == BROADCAST_MAC or ethernet.is_multicast(sha):
            raise Drop("arp_bad_sender")
        if spa and self.ip and (spa ^ self.ip) & self.netmask:
            raise Drop("arp_offlink_sender")  # not a neighbour: never learn or answer it
        if self.ip and tpa == self.ip:
            if spa:
                self._flush(sha, self.arp.update(spa, sha, now))
            if op == arp.REQUEST:
                self._count("arp_replies")
                self._send(sha, ethernet.ETH_ARP, arp.build(arp.REPLY, self.mac, self.ip, sha, spa))
        elif spa:
            if self.ip and spa == self.ip and sha != self.mac:
                self._count("arp_address_conflict")
                return
            self._flush(sha, self.arp.refresh_only(spa, sha, now))

    def _flush(self, mac, pkts):
        for p in pkts:
            self._send(mac, ethernet.ETH_IPV4, p)

    def _ipv4_input(self, buf, local=False):
        src, dst, proto, ident, mf, off, ttl, payload = ipv4.parse(buf)
        if src >= 0xE0000000 or (src == self.ip and src and not local) or (src >> 24) == 127:
            raise Drop("ipv4_martian")  # multicast/broadcast/loopback/our own source
        bcast = dst == 0xFFFFFFFF or dst == self.broadcast
        if not bcast and dst != self.ip and self.ip:
            raise Drop("ipv4_not_for_us")
        if not self.ip and not (proto == udp.PROTO):
            raise Drop("ipv4_no_address")  # before DHCP completes only UDP is taken
        if mf or off:
            self._count("frag_rx")
            whole = self.frags.add((src, dst, proto, ident), off, mf, payload, sched.now())
            ev = self.frags.evicted
            if ev:
                self.frags.evicted = 0
                self._count("frag_evicted", ev)
            if whole is None:
                return
            self._count("frag_reassembled")
            payload = memoryview(whole)
            buf = None  # no original packet to quote in ICMP errors
        self._count("ipv4_rx")
        if proto == udp.PROTO:
            self._udp_input(src, dst, payload, bcast, buf)
        elif proto == ipv4.PROTO_TCP:
            if bcast or self.tcp is None:
                raise Drop("tcp_no_listener" if self.tcp is None else "tcp_broadcast")
            self.tcp.input(src, dst, payload)
        elif proto == ipv4.PROTO_ICMP:
            self._icmp_input(src, dst, payload, bcast)
        else:
            raise Drop("ipv4_unknown_proto")

    def _icmp_input(self, src, dst, payload, bcast):
        t, code, msg = icmp.parse(payload)
        if t == icmp.ECHO_REQUEST:
            if bcast:
                raise Drop("icmp_broadcast_echo")
            self._count("icmp_echo")
            self.ip_output(ipv4.PROTO_ICMP, src, icmp.echo_reply(msg), self.ip)
        elif t in icmp.ERRORS:
            self._icmp_error(t, code, msg, bcast)
        else:
            self._count("icmp_other")

    def _icmp_error(self, t, code, msg, bcast):
        # an error about a packet we sent: TCP decides whether it names one of its flows
        if bcast:
            raise Drop("icmp_error_broadcast")
        qsrc, qdst, proto, quote, mtu = icmp.parse_error(msg)
        if qsrc != self.ip:
            raise Drop("icmp_error_not_ours")
        self._count("icmp_error_in")
        if t != icmp.UNREACHABLE or proto != ipv4.PROTO_TCP or self.tcp is None:
            return  # time exceeded, source quench (RFC 6633), UDP: nothing to undo
        sport = (quote[0] << 8) | quote[1]
        dport = (quote[2] << 8) | quote[3]
        seq = int.from_bytes(bytes(quote[4:8]), "big")
        kind = "frag" if code == icmp.CODE_FRAG_NEEDED else "unreach"
        self.tcp.icmp_error(kind, code, mtu, qsrc, qdst, sport, dport, seq)

    def _udp_input(self, src, dst, payload, bcast, orig):
        sport, dport, data = udp.parse(payload, src, dst)
        h = self.udp_handlers.get(dport)
        if h is None:
            self._count("udp_no_port")
            if not bcast and orig is not None and self.ip and self._icmp_budget > 0:
                self._icmp_budget -= 1
                self._count("icmp_unreach_sent")
                self.ip_output(ipv4.PROTO_ICMP, src,
                               icmp.unreachable(icmp.CODE_PORT_UNREACHABLE, orig), self.ip)
            return
        self._count("udp_rx")
        r = h(bytes(data), int_to_ip(src), sport)
        if r is not None and hasattr(r, "send"):  # an async handler: run it on its own
            sched.spawn(r)

    # --- tasks ----------------------------------------------------------------------
    async def _rx_loop(self):
        read = self.netif.read
        while True:
            frame = await read()
            self.input(frame)

    async def _tx_loop(self):
        write = self.netif.write
        get = self._txq.get
        while True:
            frame = await get()
            self._tx_busy = True
            try:
                await write(frame)
            except OSError:
                self._count("tx_errors")
            finally:
                self._tx_busy = False

    async def _timer_loop(self):
        while True:
            await sched.sleep(1.0)
            now = sched.now()
            self._icmp_budget = ICMP_ERRORS_PER_SEC
            reprobe, dropped = self.arp.tick(now)
            for ip in reprobe:
                self._arp_request(ip)
            if dropped:
                self._count("arp_unresolved_drop", dropped)
            if self.arp.evicted:
                self._count("arp_evicted", self.arp.evicted)
                self.arp.evicted = 0
            gone = self.frags.expire(now)
            if gone:
                self._count("frag_timeout", gone)


def _random_secret():
    # 16 bytes keying TCP's initial sequence numbers (RFC 6528)
    return entropy.urandom(16)


def _print_exc(e):
    import sys
    if hasattr(sys, "print_exception"):
        sys.print_exception(e)
    else:
        import traceback
        traceback.print_exception(type(e), e, e.__traceback__)
