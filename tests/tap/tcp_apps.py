# TCP test apps on our stack over a TAP device, run as a process (CPython or MicroPython):
#   tcp_apps.py --tap tap0 --ip 10.0.0.2/24 [--http PORT] [--get IP:PORT/PATH]
#               [--impair LOSS,DUP,REORDER,SEED]
# --http serves GET /N (N bytes of body(), the test's reference content) and GET / (a short
# page), HTTP/1.1 keep-alive, for curl and wrk. --get downloads from a Linux server and
# prints "GOT <status> <body length> <sha256 hex> <seconds>". --impair drops, duplicates and
# reorders frames in both directions (in-process netem: this kernel has no sch_netem).
# UDP 9999 answers "stats" with the stack counters (JSON; "_mem": stack.memory(), "_heap":
# the heap probe's report, see heap_probe.py). Prints "READY <ip>".
import sys
import json
import hashlib

from morgana import sched
from morgana.net.addr import int_to_ip, ip_to_int
from morgana.net.stack import Stack
from morgana.net.tap import Tap

BLOCK_LEN = 65521  # prime: the repeated block lines up with no segment or buffer size


def make_block():
    out = bytearray(BLOCK_LEN + 3)
    x = 12345
    for i in range(0, BLOCK_LEN, 4):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        out[i:i + 4] = x.to_bytes(4, "big")
    return bytes(out[:BLOCK_LEN])


BLOCK = make_block()


def body_chunks(n):
    """The reference body of n bytes, as memoryview slices of BLOCK."""
    mv = memoryview(BLOCK)
    while n > 0:
        k = n if n < BLOCK_LEN else BLOCK_LEN
        yield mv[:k]
        n -= k


class Rand:
    def __init__(self, seed):
        self.s = seed & 0x7FFFFFFF

    def random(self):
        self.s = (self.s * 1103515245 + 12345) & 0x7FFFFFFF
        return self.s / 2147483648.0


class Impaired:
    """A netif wrapper that loses, duplicates and reorders frames both ways, like netem:
    a reordered frame is delayed by 1-3 ms while the frames behind it pass."""

    def __init__(self, nif, loss, dup, reorder, seed):
        self.nif = nif
        self.mac = nif.mac
        self.mtu = getattr(nif, "mtu", 1500)
        self.stats = nif.stats
        self.loss, self.dup, self.reorder = loss, dup, reorder
        self.rand = Rand(seed)
        self.rxq = sched.Queue(4096)
        self.counts = {"lost": 0, "dup": 0, "reordered": 0}
        self.pump = None

    def _fate(self):
        # -> list of delays (seconds) for the copies of one frame: [] means lost
        r = self.rand
        if r.random() < self.loss:
            self.counts["lost"] += 1
            return []
        d = 0.0
        if r.random() < self.reorder:
            self.counts["reordered"] += 1
            d = 0.001 + 0.002 * r.random()
        if r.random() < self.dup:
            self.counts["dup"] += 1
            return [d, d]
        return [d]

    async def _later(self, d, fn, frame):
        await sched.sleep(d)
        r = fn(frame)
        if hasattr(r, "send"):  # netif.write is a coroutine, Queue.put_nowait is not
            await r

    async def _rx_pump(self):
        while True:
            f = bytes(await self.nif.read())
            for d in self._fate():
                if d:
                    sched.spawn(self._later(d, self.rxq.put_nowait, f))
                else:
                    self.rxq.put_nowait(f)

    async def read(self):
        if self.pump is None:
            self.pump = sched.spawn(self._rx_pump())
        return await self.rxq.get()

    async def write(self, frame):
        frame = bytes(frame)
        for d in self._fate():
            if d:
                sched.spawn(self._later(d, self.nif.write, frame))
            else:
                await self.nif.write(frame)


async def read_head(flow, buf):
    """Read until the end of an HTTP header; -> (head bytes, rest) or (None, b'') at EOF."""
    while True:
        i = buf.find(b"\r\n\r\n")
        if i >= 0:
            return bytes(buf[:i]), bytes(buf[i + 4:])
        if len(buf) > 16384:
            return None, b""
        d = await flow.read()
        if not d:
            return None, b""
        buf += d


async def http_conn(flow):
    buf = bytearray()
    while True:
        head, rest = await read_head(flow, buf)
        if head is None:
            break
        buf = bytearray(rest)
        line = head.split(b"\r\n", 1)[0].split()
        path = line[1] if len(line) > 1 else b"/"
        keep = b"HTTP/1.1" in head.split(b"\r\n", 1)[0] and \
            b"connection: close" not in head.lower()
        if path[1:].isdigit():
            n = int(path[1:])
            await flow.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: "
                             b"application/octet-stream\r\n\r\n" % n)
            for c in body_chunks(n):
                await flow.write(c)
        else:
            page = b"hello from morgana\n"
            await flow.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(page), page))
        if not keep:
            break
    await flow.close()


async def get(st, spec):
    hostport, _, path = spec.partition("/")
    host, _, port = hostport.partition(":")
    t0 = sched.now()
    flow = await st.connect(host, int(port or 80))
    await flow.write(b"GET /%s HTTP/1.0\r\nHost: %s\r\n\r\n" % (path.encode(), host.encode()))
    head, rest = await read_head(flow, bytearray())
    status = int(head.split(b" ", 2)[1]) if head else 0
    h = hashlib.sha256(rest)
    n = len(rest)
    while True:
        d = await flow.read()
        if not d:
            break
        h.update(d)
        n += len(d)
    await flow.close()
    dt = sched.now() - t0
    hexd = "".join("%02x" % b for b in h.digest())
    print("GOT %d %d %s %.3f" % (status, n, hexd, dt))


def parse_args(argv):
    o = {"tap": None, "ip": "10.0.0.2", "mask": "255.255.255.0", "http": None, "get": None,
         "impair": None}
    i = 0
    while i + 1 < len(argv):
        a, v = argv[i], argv[i + 1]
        if a == "--tap":
            o["tap"] = v
        elif a == "--ip":
            ip, _, p = v.partition("/")
            o["ip"] = ip
            if p:
                o["mask"] = int_to_ip((0xFFFFFFFF << (32 - int(p))) & 0xFFFFFFFF)
        elif a == "--http":
            o["http"] = int(v)
        elif a == "--get":
            o["get"] = v
        elif a == "--impair":
            p = v.split(",")
            o["impair"] = (float(p[0]), float(p[1]), float(p[2]), int(p[3]))
        else:
            raise SystemExit("unknown option %s" % a)
        i += 2
    if i != len(argv) or not o["tap"]:
        raise SystemExit(__doc__ if "__doc__" in globals() else "bad arguments")
    return o


async def main(o):
    nif = Tap(o["tap"])
    imp = None
    if o["impair"]:
        imp = nif = Impaired(nif, *o["impair"])
    st = Stack(nif, ip=o["ip"], netmask=o["mask"])
    from heap_probe import HeapProbe
    probe = HeapProbe()

    def control(data, ip, port):
        if data.strip() == b"stats":
            s = dict(st.stats)
            s["_mem"] = st.memory()
            s["_heap"] = probe.report()
            if imp is not None:
                for k in imp.counts:
                    s["impair_" + k] = imp.counts[k]
            st.udp_output(st.ip, ip_to_int(ip), 9999, port, json.dumps(s).encode())

    st.udp_listen(9999, control)
    await st.start()
    if o["http"]:
        st.listen(o["http"], http_conn)
    probe.rebase()
    print("READY %s" % int_to_ip(st.ip))
    if o["get"]:
        await get(st, o["get"])
    try:
        sys.stdout.flush()
    except AttributeError:
        pass
    while True:
        await sched.sleep(3600)


if __name__ == "__main__":
    sched.run(main(parse_args(sys.argv[1:])))
