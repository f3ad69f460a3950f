# ARP for IPv4 over Ethernet (RFC 826): packet codec and the neighbour table.
# The table is pure state driven by `now` (seconds); the stack does the I/O.
import struct
from morgana.net import Drop

REQUEST = 1
REPLY = 2
PACKET_LEN = 28
_HDR = b"\x00\x01\x08\x00\x06\x04"  # htype ethernet, ptype IPv4, hlen 6, plen 4


def parse(buf):
    """-> (op, sender_mac, sender_ip, target_mac, target_ip)."""
    if len(buf) < PACKET_LEN:
        raise Drop("arp_truncated")
    if bytes(buf[0:6]) != _HDR:
        raise Drop("arp_unsupported")
    op = (buf[6] << 8) | buf[7]
    if op != REQUEST and op != REPLY:
        raise Drop("arp_bad_op")
    spa, tpa = struct.unpack_from(">I", buf, 14)[0], struct.unpack_from(">I", buf, 24)[0]
    return op, bytes(buf[8:14]), spa, bytes(buf[18:24]), tpa


def build(op, sha, spa, tha, tpa):
    return _HDR + struct.pack(">H", op) + sha + struct.pack(">I", spa) + tha + struct.pack(">I", tpa)


class ArpTable:
    """Resolved entries expire after `ttl` s. Unresolved addresses get a probe every
    `probe_interval` s, at most `probes` times; packets waiting for them are parked in a
    queue bounded per address (`max_pending`) and in number of addresses (`max_waiting`)."""

    def __init__(self, ttl=60.0, probes=3, probe_interval=1.0, max_pending=16, max_waiting=32,
                 max_entries=256):
        self.ttl = ttl
        self.probes = probes
        self.probe_interval = probe_interval
        self.max_pending = max_pending
        self.max_waiting = max_waiting
        self.refresh_before = ttl / 4
        self.max_entries = max_entries  # a flood of requests from made-up senders is bounded
        self.evicted = 0
        self.entries = {}  # ip -> [mac, expiry, used]
        self.waiting = {}  # ip -> [packets list, probes sent, next probe time]

    def lookup(self, ip, now):
        e = self.entries.get(ip)
        if e is None:
            return None
        if e[1] < now:
            del self.entries[ip]
            return None
        e[2] = True
        return e[0]

    def update(self, ip, mac, now):
        """Learn ip -> mac; returns the packets that were waiting for it (maybe [])."""
        ents = self.entries
        if ip not in ents and len(ents) >= self.max_entries:
            oldest = None
            for k in ents:
                if oldest is None or ents[k][1] < ents[oldest][1]:
                    oldest = k
            del ents[oldest]
            self.evicted += 1
        ents[ip] = [mac, now + self.ttl, False]  # mac, expiry, used since learnt
        w = self.waiting.pop(ip, None)
        return w[0] if w else []

    def refresh_only(self, ip, mac, now):
        """RFC 826 merge: update an existing entry only. Returns waiting packets or []."""
        if ip in self.entries or ip in self.waiting:
            return self.update(ip, mac, now)
        return []

    def park(self, ip, pkt, now):
        """Queue pkt until ip resolves. -> 'probe' (send a request now), 'queued', or
        'dropped' (bound reached)."""
        w = self.waiting.get(ip)
        if w is None:
            if len(self.waiting) >= self.max_waiting:
                return "dropped"
            self.waiting[ip] = [[pkt], 1, now + self.probe_interval]
            return "probe"
        if len(w[0]) >= self.max_pending:
            return "dropped"
        w[0].append(pkt)
        return "queued"

    def tick(self, now):
        """-> (ips to probe, number of packets dropped as unresolvable). Entries in use
        that expire within `refresh_before` s are probed too (unicast would do, broadcast
        is simpler), so a busy flow never stalls on a cache miss."""
        reprobe = []
        dropped = 0
        for ip in list(self.waiting):
            w = self.waiting[ip]
            if w[2] > now:
                continue
            if w[1] >= self.probes:
                dropped += len(w[0])
                del self.waiting[ip]
            else:
                w[1] += 1
                w[2] = now + self.probe_interval
                reprobe.append(ip)
        for ip in list(self.entries):
            e = self.entries[ip]
            if e[1] < now:
                del self.entries[ip]
            elif e[2] and e[1] - now < self.refresh_before:
                e[2] = False  # one refresh probe per use period
                reprobe.append(ip)
        return reprobe, dropped
