# Link impairment inside the runner process, in both directions: loss, duplication and
# reordering (a frame is held back and released after a short delay, so later frames
# overtake it). Stands in for `tc qdisc ... netem`, which this host's kernel lacks
# (sch_netem is not built). Deterministic: seeded LCG, same on CPython and MicroPython.
from morgana import sched


class _Rng:
    def __init__(self, seed):
        self.x = seed & 0x7FFFFFFF or 1

    def chance(self, p):
        self.x = (self.x * 1103515245 + 12345) & 0x7FFFFFFF
        return self.x < p * 0x7FFFFFFF


class ImpairedNetif:
    """Wraps a netif; loss/dup/reorder are probabilities per frame, delay in seconds."""

    def __init__(self, inner, loss=0.05, dup=0.02, reorder=0.25, delay=0.003, seed=1):
        self.inner = inner
        self.mac = inner.mac
        self.mtu = inner.mtu
        self.fd = getattr(inner, "fd", None)
        self.loss, self.dup, self.reorder, self.delay = loss, dup, reorder, delay
        self.rng = _Rng(seed)
        self.rxq = sched.Queue(4096)
        self.stats = {"lost": 0, "duplicated": 0, "reordered": 0}
        self._pump = None

    def _fate(self):
        # -> 0 drop, 1 normal, 2 duplicate, 3 delay (reorder)
        r = self.rng
        if r.chance(self.loss):
            self.stats["lost"] += 1
            return 0
        if r.chance(self.dup):
            self.stats["duplicated"] += 1
            return 2
        if r.chance(self.reorder):
            self.stats["reordered"] += 1
            return 3
        return 1

    async def _later(self, fn, frame):
        await sched.sleep(self.delay)
        await fn(frame)

    async def _rx_pump(self):
        while True:
            f = bytes(await self.inner.read())
            fate = self._fate()
            if fate == 1 or fate == 2:
                self.rxq.put_nowait(f)
            if fate == 2:
                self.rxq.put_nowait(f)
            if fate == 3:
                sched.spawn(self._later(self._rx_put, f))

    async def _rx_put(self, f):
        self.rxq.put_nowait(f)

    async def read(self):
        if self._pump is None:
            self._pump = sched.spawn(self._rx_pump())
        return await self.rxq.get()

    async def write(self, frame):
        fate = self._fate()
        if fate == 0:
            return
        if fate == 3:
            sched.spawn(self._later(self.inner.write, bytes(frame)))
            return
        await self.inner.write(frame)
        if fate == 2:
            await self.inner.write(frame)
