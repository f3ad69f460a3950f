# A simulated link for TCP tests: two real TCP instances, a fake clock, and a
# discrete-event queue of segments with seeded loss / duplication / reordering. Time only
# moves when the simulation says so, so every timer is tested deterministically.
from morgana.net.tcp import TCP
from morgana.net import tcp_wire

IP_A = 0x0A000001
IP_B = 0x0A000002


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


class Rand:
    # a portable LCG: identical sequences on CPython and MicroPython
    def __init__(self, seed):
        self.s = seed & 0x7FFFFFFF

    def random(self):
        self.s = (self.s * 1103515245 + 12345) & 0x7FFFFFFF
        return self.s / 2147483648.0


class Link:
    def __init__(self, clock, seed=1, delay=0.005, loss=0.0, dup=0.0, reorder=0.0):
        self.clock = clock
        self.rand = Rand(seed)
        self.delay = delay
        self.loss = loss
        self.dup = dup
        self.reorder = reorder
        self.q = []         # [deliver_time, n, dst_ip, src_ip, bytes]
        self.n = 0
        self.ends = {}      # ip -> TCP
        self.log = []       # (src_ip, Segment) of everything sent, when logging
        self.logging = False
        self.drop_fn = None  # drop_fn(src_ip, seg) -> True drops that segment
        self.sent = 0

    def attach(self, ip, tcp):
        self.ends[ip] = tcp

    def output(self, proto, dst, seg, src):
        assert proto == 6
        seg = bytes(seg)
        self.sent += 1
        if self.logging or self.drop_fn is not None:
            s = tcp_wire.parse(src, dst, seg)
            if self.logging:
                self.log.append((src, s))
            if self.drop_fn is not None and self.drop_fn(src, s):
                return
        r = self.rand
        if self.loss and r.random() < self.loss:
            return
        t = self.clock.t + self.delay
        if self.reorder and r.random() < self.reorder:
            t += self.delay * 3 * r.random()
        self._put(t, dst, src, seg)
        if self.dup and r.random() < self.dup:
            self._put(t + self.delay * r.random(), dst, src, seg)

    def inject(self, dst, src, seg, at=None):
        self._put(self.clock.t if at is None else at, dst, src, bytes(seg))

    def _put(self, t, dst, src, seg):
        self.n += 1
        self.q.append([t, self.n, dst, src, seg])

    def step(self, until):
        """Advance to the next event not after `until`; False when there is none."""
        tp = None
        for e in self.q:
            if tp is None or e[0] < tp:
                tp = e[0]
        tt = None
        for tcp in self.ends.values():
            d = tcp.next_deadline()
            if d is not None and (tt is None or d < tt):
                tt = d
        t = tp if tt is None or (tp is not None and tp <= tt) else tt
        if t is None or t > until:
            return False
        if t > self.clock.t:
            self.clock.t = t
        if tp is not None and tp <= t:
            due = [e for e in self.q if e[0] <= t]
            due.sort(key=lambda e: (e[0], e[1]))
            self.q = [e for e in self.q if e[0] > t]
            for e in due:
                end = self.ends.get(e[2])
                if end is not None:
                    end.input(e[3], e[2], memoryview(e[4]))
        for tcp in self.ends.values():
            tcp.tick()
        return True

    def run(self, seconds=None, until=None, max_steps=200000):
        """Process events for `seconds` of simulated time (or until the queue is empty)."""
        end = until if until is not None else (
            self.clock.t + seconds if seconds is not None else 1e18)
        steps = 0
        while steps < max_steps and self.step(end):
            steps += 1
        if seconds is not None and self.clock.t < end:
            self.clock.t = end
        return steps


def gc_collect():
    # MicroPython runs every test module in one small heap: start each test clean
    try:
        import gc
        gc.collect()
    except ImportError:
        pass


def pair(seed=1, **link_opts):
    """(clock, link, A, B, stats_a, stats_b) with extra TCP options in link_opts['tcp']."""
    gc_collect()
    tcp_opts = {"rcvbuf": 65536, "sndbuf": 32768}  # lean: MicroPython shares one heap
    tcp_opts.update(link_opts.pop("tcp", {}))
    clock = Clock()
    link = Link(clock, seed, **link_opts)
    sa = {}
    sb = {}
    a = TCP(link.output, IP_A, sa, b"secret-a-0123456", clock=clock, **tcp_opts)
    b = TCP(link.output, IP_B, sb, b"secret-b-0123456", clock=clock, **tcp_opts)
    link.attach(IP_A, a)
    link.attach(IP_B, b)
    return clock, link, a, b, sa, sb


def connected(seed=1, port=80, **link_opts):
    """A connected pair: (clock, link, a, b, client_flow_on_b, server_flow_on_a)."""
    clock, link, a, b, sa, sb = pair(seed, **link_opts)
    accepted = []
    a.listen(port, accepted.append)
    cf = b.open(IP_A, port)
    link.run(seconds=5)
    for _ in range(120):  # lossy links may need SYN retransmissions
        if accepted and cf.state == 3:  # ESTABLISHED
            break
        link.run(seconds=1)
    assert accepted, "handshake did not complete"
    return clock, link, a, b, cf, accepted[0]


def pattern(n, seed=7):
    """n bytes of non-repeating-looking data (so misplaced bytes are detected)."""
    out = bytearray(n)
    x = seed
    for i in range(0, n, 4):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        out[i:i + 4] = x.to_bytes(4, "big")[:min(4, n - i)]
    return bytes(out)


def transfer(link, src, dst, data, limit=600.0, close=True):
    """Push data from flow src to flow dst through the simulated link; returns what dst
    read (up to EOF when close is set)."""
    got = bytearray()
    off = 0
    t_end = link.clock.t + limit
    closed = False
    while link.clock.t < t_end:
        if off < len(data):
            off += src.send_nowait(memoryview(data)[off:])
        elif close and not closed:
            src.shutdown()
            closed = True
        link.run(seconds=0.01)
        while True:
            d = dst.recv_nowait()
            if not d:
                break
            got += d
        if d == b"" and (closed or not close):
            break
        if not close and len(got) >= len(data):
            break
    return bytes(got)


def test_link_is_deterministic():
    a = Rand(5)
    b = Rand(5)
    xs = [a.random() for _ in range(10)]
    assert xs == [b.random() for _ in range(10)]
    assert all(0.0 <= x < 1.0 for x in xs)
    assert len(set(xs)) > 5


def test_pattern_not_periodic():
    p = pattern(4096)
    assert len(p) == 4096
    assert p[:16] != p[16:32]
    assert pattern(10) == pattern(10)
