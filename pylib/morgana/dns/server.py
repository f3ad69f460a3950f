# Authoritative answers from in-memory zones. handle(query bytes, tcp) -> response bytes or
# None (dropped). UDP responses are cached by the query bytes after the ID: the answer is a
# pure function of them, so a repeated question costs one dict lookup and one concatenation.
import struct
from morgana.dns import wire
from morgana.dns.wire import WireError

CD = 0x0010
DS = 43
MAX_CHAIN = 8      # CNAMEs followed inside the zone before giving up
OPT_LEN = 11       # root name + type, class, ttl, rdlength
STAT_NAMES = ("queries", "cached", "dropped", "noerror", "nodata", "nxdomain", "refused",
              "formerr", "notimp", "badvers", "truncated", "tcp", "backlog_drop", "referral")


def _owned(rrset, owner):
    return rrset if owner is None else [owner, rrset[1], rrset[2]]


class DnsServer:
    def __init__(self, zones, edns_size=1232, cache_max=1024):
        self.zones = {}
        for z in zones:
            self.zones[z.key] = z
        self.edns_size = edns_size
        self.cache_max = cache_max
        self.cache = {}
        self.stats = {}
        for k in STAT_NAMES:
            self.stats[k] = 0

    # ---------------- entry point ----------------
    def handle(self, q, tcp=False):
        # Kept tiny on purpose: MicroPython heap-allocates the frame of a function with
        # many locals or a try block, and on a fragmented heap that costs ~20 us a call.
        if type(q) is not bytes:
            q = bytes(q)
        st = self.stats
        st["queries"] += 1
        if not tcp:
            hit = self.cache.get(q[2:])
            if hit is not None:
                st["cached"] += 1
                st[hit[1]] += 1
                return q[:2] + hit[0]
        return self._miss(q, tcp)

    def _miss(self, q, tcp):
        st = self.stats
        if len(q) < 12 or q[2] & 0x80:  # no header, or a response: never answer
            st["dropped"] += 1
            return None
        try:
            tail, kind = self._answer(q, tcp)
        except WireError:
            kind = "formerr"
            tail = self._error_tail(q, wire.FORMERR)
        st[kind] += 1
        if not tcp and len(q) <= 512:
            if len(self.cache) >= self.cache_max:
                self.cache.clear()  # bounded: a flood of distinct names cannot grow it
            self.cache[q[2:]] = (tail, kind)
        return q[:2] + tail

    def _error_tail(self, q, rcode):
        # header only: the question may be what is wrong
        flags = wire.QR | (q[2] & 0x78) << 8 | (q[2] << 8 & wire.RD) | rcode
        return struct.pack(">HHHHH", flags, 0, 0, 0, 0)

    # ---------------- parsing the query ----------------
    def _answer(self, q, tcp):
        n = len(q)
        qflags, qd, an, ns, ar = struct.unpack_from(">HHHHH", q, 2)
        if (qflags >> 11) & 15 != 0:
            return self._error_tail(q, wire.NOTIMP), "notimp"
        if qd != 1 or an or ns:
            raise WireError("a query holds one question and no answer/authority records")
        # the question name: no compression pointer can be valid this early in a message
        off = 12
        while True:
            if off >= n:
                raise WireError("question name runs past the end")
            l = q[off]
            if l == 0:
                break
            if l > 63:
                raise WireError("bad label in question")
            off += l + 1
            if off - 12 > 254:
                raise WireError("question name too long")
        qend = off + 5
        if qend > n:
            raise WireError("question runs past the end")
        qtype = q[off + 1] << 8 | q[off + 2]
        qclass = q[off + 3] << 8 | q[off + 4]
        opt = None
        off = qend
        for _ in range(ar):
            name, off = wire.read_name(q, off)
            if off + 10 > n:
                raise WireError("additional record runs past the end")
            t, c, ttl, rdlen = struct.unpack_from(">HHIH", q, off)
            off += 10 + rdlen
            if off > n:
                raise WireError("additional rdata runs past the end")
            if t == wire.OPT:
                if opt is not None or name != wire.ROOT:
                    raise WireError("second OPT or OPT not at the root")
                opt = (c, ttl)
        if off != n:
            raise WireError("trailing bytes after the query")
        if tcp:
            limit = 65535
        elif opt is None:
            limit = 512
        else:
            limit = min(max(opt[0], 512), self.edns_size)
        flags = wire.QR | (qflags & (wire.RD | CD))
        if opt is not None and (opt[1] >> 16) & 255 != 0:  # EDNS version we do not speak
            return self._render(q, qend, flags, wire.BADVERS, (), (), (), opt, limit), "badvers"
        qname = q[12:qend - 4]
        zone = self._find_zone(qname.lower()) if qclass == wire.IN else None
        if zone is None or qtype in (wire.AXFR, wire.IXFR):
            return self._render(q, qend, flags, wire.REFUSED, (), (), (), opt, limit), "refused"
        rcode, answer, authority, additional, aa = self.resolve(zone, qname.lower(), qtype)
        if not aa:
            kind = "referral"
        elif answer:
            kind = "noerror"
        else:
            kind = "nxdomain" if rcode == wire.NXDOMAIN else "nodata"
        if aa:
            flags |= wire.AA
        tail = self._render(q, qend, flags, rcode, answer, authority, additional, opt, limit)
        if tail[0] & 2:  # TC (high byte of the flags); counted when computed, not on hits
            self.stats["truncated"] += 1
        return tail, kind

    def _find_zone(self, key):
        i = 0
        zones = self.zones
        while True:
            z = zones.get(key[i:])
            if z is not None:
                return z
            if key[i] == 0:
                return None
            i += key[i] + 1

    # ---------------- answer logic ----------------
    def resolve(self, zone, key, qtype):
        """-> (rcode, answer, authority, additional, authoritative); sections are lists
        of RRsets [owner, ttl, [rdata...]] paired with their type as (type, rrset)."""
        answer = []
        seen = []
        name = key
        while True:
            cut = self._cut(zone, name, qtype)
            if cut is not None:
                # below a delegation: refer to the child's servers, with glue (RFC 1034 4.3.2)
                auth = [(wire.NS, zone.nodes[cut][wire.NS])]
                return wire.NOERROR, answer, auth, self._additional(zone, auth), bool(answer)
            node = zone.nodes.get(name)
            synth = None
            if node is None:
                node = self._wildcard(zone, name)
                if node is None:
                    return wire.NXDOMAIN, answer, self._soa_auth(zone), [], True
                synth = name  # RFC 4592: the answer is owned by the name asked for
            if qtype == wire.ANY:
                for t in node:
                    answer.append((t, _owned(node[t], synth)))
                break
            rr = node.get(qtype)
            if rr is not None:
                answer.append((qtype, _owned(rr, synth)))
                break
            cn = node.get(wire.CNAME)
            if cn is None:
                break
            answer.append((wire.CNAME, _owned(cn, synth)))
            seen.append(name)
            name = cn[2][0].lower()
            if len(seen) >= MAX_CHAIN or name in seen:
                return wire.NOERROR, answer, [], [], True
            if not wire.is_subdomain(name, zone.key):
                return wire.NOERROR, answer, [], [], True  # left the zone: resolver goes on
        if not answer or (qtype != wire.CNAME and answer[-1][0] == wire.CNAME and
                          qtype != wire.ANY):
            return wire.NOERROR, answer, self._soa_auth(zone), [], True
        return wire.NOERROR, answer, [], self._additional(zone, answer), True

    def _cut(self, zone, name, qtype):
        """The highest delegation point at or above name, or None. DS at the cut itself
        belongs to the parent side (we hold none: NODATA), so it is not referred."""
        cuts = zone.cuts
        if not cuts:
            return None
        found = None
        i = 0
        n = len(name) - len(zone.key)
        while i < n:
            if name[i:] in cuts and not (i == 0 and qtype == DS):
                found = name[i:]
            i += name[i] + 1
        return found

    def _wildcard(self, zone, name):
        """The '*' node below the closest existing ancestor of name, or None."""
        i = 0
        nodes = zone.nodes
        while True:
            i += name[i] + 1
            parent = name[i:]
            if len(parent) < len(zone.key):
                return None
            if parent in nodes:
                return nodes.get(b"\x01*" + parent)

    def _soa_auth(self, zone):
        # negative caching TTL: min(SOA TTL, SOA minimum) (RFC 2308 section 3)
        owner, ttl, rdatas = zone.soa
        minimum = struct.unpack(">I", rdatas[0][-4:])[0]
        if minimum < ttl:
            return [(wire.SOA, [owner, minimum, rdatas])]
        return [(wire.SOA, zone.soa)]

    def _additional(self, zone, answer):
        add = []
        done = []
        for t, rr in answer:
            if t == wire.NS:
                skip = 0
            elif t == wire.MX:
                skip = 2
            elif t == wire.SRV:
                skip = 6
            else:
                continue
            for rd in rr[2]:
                target = rd[skip:].lower()
                if target in done:
                    continue
                done.append(target)
                node = zone.nodes.get(target)
                if node is None:
                    continue
                for at in (wire.A, wire.AAAA):
                    a = node.get(at)
                    if a is not None:
                        add.append((at, a))
        return add

    # ---------------- rendering ----------------
    def _render(self, q, qend, flags, rcode, answer, authority, additional, opt, limit):
        """-> the response without its 2-byte ID. Drops the additional section first when
        it does not fit, then sets TC and keeps only the question."""
        out = bytearray(12)
        out += q[12:qend]
        comp = wire.Compressor()
        comp.note(q[12:qend - 4], 12)
        counts = [0, 0, 0]
        marks = [0, 0, 0]
        for k, section in ((0, answer), (1, authority), (2, additional)):
            for t, rr in section:
                owner, ttl = rr[0], rr[1]
                for rd in rr[2]:
                    wire.put_rr(out, comp, owner, t, wire.IN, ttl, rd)
                    counts[k] += 1
            marks[k] = len(out)
        room = limit - (OPT_LEN if opt is not None else 0)
        if len(out) > room:
            if marks[1] <= room:
                out = out[:marks[1]]
                counts[2] = 0
            else:
                out = out[:qend]
                counts = [0, 0, 0]
                flags |= wire.TC
        ar = counts[2]
        if opt is not None:
            ar += 1
            # our payload size; extended rcode bits; DO copied back (RFC 3225)
            out += struct.pack(">BHHIH", 0, wire.OPT, self.edns_size,
                               (rcode >> 4) << 24 | (opt[1] & 0x8000), 0)
        struct.pack_into(">HHHHHH", out, 0, 0, flags | (rcode & 15), 1, counts[0], counts[1], ar)
        return bytes(out[2:])

    # ---------------- wiring to the network API ----------------
    def serve(self, stack, port=53, tcp_idle=10.0, backlog=256):
        """Register the UDP and TCP handlers on a stack (see docs/design.md); call it
        inside sched.run. The UDP handler is synchronous: it answers at once through a
        stack's udp_send_nowait, or else answers queue up for one sender task, so a query
        costs no task of its own (a task per packet halved the rate)."""
        from morgana import sched
        handle = self.handle
        stats = self.stats
        pending = []      # (response, ip, port) waiting for the sender
        sleeper = [None]  # the sender's Promise while the queue is empty

        send_now = getattr(stack, "udp_send_nowait", None)   # the direct stack has it

        def on_udp(data, ip, sport):
            r = handle(data, False)
            if r is not None:
                if send_now is not None and not pending and send_now(r, ip, sport, port):
                    return
                if len(pending) >= backlog:
                    stats["backlog_drop"] += 1
                    return
                pending.append((r, ip, sport))
                p = sleeper[0]
                if p is not None:
                    sleeper[0] = None
                    p.wakeup()

        async def sender():
            send = stack.udp_send
            while True:
                if not pending:
                    p = sleeper[0] = sched.Promise()
                    await p
                batch = pending[:]
                del pending[:]
                for r, ip, sp in batch:
                    await send(r, ip, sp, port)

        async def on_tcp(flow):
            await self.serve_flow(flow, tcp_idle)

        stack.udp_listen(port, on_udp)
        stack.listen(port, on_tcp)
        sched.spawn(sender())

    async def serve_flow(self, flow, idle=None):
        """RFC 7766: 2-byte length framing, several queries per connection, in order."""
        self.stats["tcp"] += 1
        buf = b""
        try:
            while True:
                if idle is None:
                    data = await flow.read()
                else:
                    from morgana import sched
                    try:
                        data = await sched.with_timeout(idle, flow.read())
                    except sched.Timeout:
                        break
                if not data:
                    break
                buf += data
                while len(buf) >= 2:
                    ln = buf[0] << 8 | buf[1]
                    if len(buf) < 2 + ln:
                        break
                    r = self.handle(buf[2:2 + ln], True)
                    buf = buf[2 + ln:]
                    if r is None:
                        return  # not a query: hang up rather than guess the framing
                    await flow.write(struct.pack(">H", len(r)) + r)
        finally:
            await flow.close()
