# Xen PV console (xen/io/console.h) on the scheduler: output waits for ring space instead
# of spinning, input is delivered in chunks to a queue (the REPL reads it).
#   con = xenconsole.XenConsole()     # inside the running loop
#   await con.write(b"hello\n");  chunk = await con.read()
#
# The kernel's _xen.console_write() may also produce into the out ring (early boot,
# tracebacks); both run on the one vCPU, so we re-read out_prod from the page before each
# write instead of assuming we are its only producer. xenconsoled's indices are checked
# like any backend's: a lie puts the console in its error state.
from morgana import sched
from morgana.xen.ring import RingError, wake_all
from morgana.xen.bytering import ByteRingOut, ByteRingIn

import _xen

IN_OFF, IN_SIZE = 0, 1024
OUT_OFF, OUT_SIZE = 1024, 2048
IN_CONS, IN_PROD, OUT_CONS, OUT_PROD = 768, 769, 770, 771   # u32 words at 3072


class XenConsole:
    def __init__(self, page=None, port=None, inq_len=64):
        if page is None:
            page = _xen.console_page()
        if port is None:
            port = _xen.start_info()["console_evtchn"]
        self.port = port
        self.u32 = page.u32
        self.out = ByteRingOut(page, OUT_OFF, OUT_SIZE, OUT_CONS, OUT_PROD, "console out")
        self.inp = ByteRingIn(page, IN_OFF, IN_SIZE, IN_CONS, IN_PROD, "console in")
        self.input = sched.Queue(inq_len)
        self.writers = []
        self.error = None
        self.stats = {"in_bytes": 0, "out_bytes": 0, "in_dropped": 0, "out_waits": 0}
        _xen.evtchn_unmask(port)
        self.task = sched.spawn(self._loop(), "console")

    async def _loop(self):
        try:
            while True:
                self.out.prod = self.u32[OUT_PROD]
                self.out.space()        # checks xenconsoled's out_cons on every event
                data = self.inp.read()
                if data:
                    _xen.evtchn_notify(self.port)     # room for more input
                    self.stats["in_bytes"] += len(data)
                    if not self.input.put_nowait(data):
                        self.stats["in_dropped"] += len(data)
                self._wake_writers()
                await sched.event(self.port)
        except Exception as e:      # RingError, or e.g. MemoryError: never die silently
            self.error = e
            self.input.put_nowait(None)
            self._wake_writers()

    def _wake_writers(self):
        w, self.writers = self.writers, []
        wake_all(w)

    def _check(self):
        if self.error is not None:
            raise RingError(str(self.error))

    def write_nowait(self, data, start=0):
        """Put what fits of data[start:] into the ring now; the byte count."""
        self._check()
        self.out.prod = self.u32[OUT_PROD]      # the kernel may have written too
        n = self.out.write(data, start)
        if n:
            _xen.evtchn_notify(self.port)
            self.stats["out_bytes"] += n
        return n

    async def write(self, data):
        pos = 0
        while pos < len(data):
            pos += self.write_nowait(data, pos)
            if pos < len(data):
                self.stats["out_waits"] += 1
                p = sched.Promise()
                self.writers.append(p)
                await p
                self._check()

    async def read(self):
        """The next chunk of input bytes."""
        self._check()
        data = await self.input
        if data is None:
            self.input.put_nowait(None)
            raise RingError(str(self.error))
        return data

    def close(self):
        self.task.cancel()
