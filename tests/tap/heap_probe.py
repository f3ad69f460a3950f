# The heap probe of the stack processes in tests/tap (run_stack.py, tcp_apps.py): a task
# that every `every` seconds collects garbage and samples the live heap, keeping the
# largest value, so a test can check that an attack never took the heap past the stack's
# budget. MicroPython: gc.mem_alloc() after gc.collect() (the live heap); CPython, which
# has no such number, reports its resident set size instead (kind "rss").
from morgana import sched


def _sample():
    try:
        import gc
        gc.collect()
        return gc.mem_alloc(), gc.mem_alloc() + gc.mem_free(), "heap"
    except AttributeError:
        pass
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * 4096, 0, "rss"
    except OSError:
        return 0, 0, "none"


class HeapProbe:
    def __init__(self, every=0.5):
        self.every = every
        self.base, self.total, self.kind = _sample()
        self.now = self.max = self.base
        self.samples = 1
        self.task = sched.spawn(self._run())

    def sample(self):
        v, total, kind = _sample()
        self.now = v
        self.samples += 1
        if v > self.max:
            self.max = v

    async def _run(self):
        while True:
            await sched.sleep(self.every)
            self.sample()

    def rebase(self):
        """The idle heap once the stack is up: growth is measured from here."""
        self.sample()
        self.base = self.max = self.now

    def report(self):
        return {"kind": self.kind, "base": self.base, "now": self.now, "max": self.max,
                "total": self.total, "samples": self.samples}
