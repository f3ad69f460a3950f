# A fake `_xen` for unit tests on CPython and MicroPython: the API of docs/design.md over
# ordinary memory, plus a "backend side" (map grants, bind/notify event channels) that the
# fake backends in fake_backends.py use. Importing it installs it as `_xen`.
#
# Time is virtual: block(deadline) jumps the clock to the deadline when nothing is pending,
# so tests with timeouts run instantly. Backend work queued by evtchn_notify() runs when
# the guest yields (pending()/block()), like a backend domain running while we wait.
import gc
import sys

try:
    import uctypes
    import array
except ImportError:
    uctypes = None

PAGE_SIZE = 4096
FIRST_GREF = 8          # Xen reserves the first grant entries for the toolstack
DOMID_SELF = 1          # our (guest) domain id in the fake world


# ---------------------------------------------------------------- pages and frames
_frames = {}            # frame number -> (Page, page index)
_next_frame = [0x10000]


class Page:
    def __init__(self, npages=1):
        n = npages * PAGE_SIZE
        if uctypes is None:
            self._buf = bytearray(n)
            self.mv = memoryview(self._buf)
            self.u32 = memoryview(self._buf).cast("I")
        else:
            # MicroPython has no memoryview.cast: back with words, view the same bytes.
            self._buf = array.array("I", bytes(n))
            self.mv = memoryview(uctypes.bytearray_at(uctypes.addressof(self._buf), n))
            self.u32 = memoryview(self._buf)
        self.frames = []
        for i in range(npages):
            f = _next_frame[0]
            _next_frame[0] += 1
            _frames[f] = (self, i)
            self.frames.append(f)
        self.freed = False

    def free(self):
        if self.freed:
            raise ValueError("page freed twice")
        for f in self.frames:
            for g in _grants.values():
                if g[1] == f:       # as the kernel: granted at all, mapped or not
                    raise ValueError("page %#x freed while it is still granted" % f)
        for f in self.frames:
            del _frames[f]
        self.freed = True


def frame_view(frame):
    """Backend helper: the 4096 bytes of `frame` (whoever owns it)."""
    page, i = _frames[frame]
    return page.mv[i * PAGE_SIZE:(i + 1) * PAGE_SIZE]


# ---------------------------------------------------------------- grant table (v1)
_grants = {}            # ref -> [domid, frame, readonly, map_count]
_next_gref = [FIRST_GREF]
stats = {"grants": 0, "ends": 0, "end_busy": 0}


def gnttab_grant(domid, frame, readonly):
    if frame not in _frames:
        raise ValueError("grant of unknown frame %#x" % frame)
    ref = _next_gref[0]
    _next_gref[0] += 1
    _grants[ref] = [domid, frame, bool(readonly), 0]
    stats["grants"] += 1
    return ref


def gnttab_end(ref):
    g = _grants.get(ref)
    if g is None:
        raise ValueError("gnttab_end of unknown ref %d" % ref)
    if g[3] > 0:
        stats["end_busy"] += 1
        return False
    del _grants[ref]
    stats["ends"] += 1
    return True


class GrantFault(Exception):
    """What a hypervisor would refuse a backend doing (bad ref, wrong domain, RO write)."""


def map_grant(domid, ref, write):
    """Backend side: map a granted frame; returns its memoryview. Keep mapped until
    unmap_grant(); while mapped the frontend's gnttab_end() fails."""
    g = _grants.get(ref)
    if g is None:
        raise GrantFault("ref %r not granted" % (ref,))
    if g[0] != domid:
        raise GrantFault("ref %d granted to dom%d, not dom%d" % (ref, g[0], domid))
    if write and g[2]:
        raise GrantFault("ref %d is read-only" % ref)
    g[3] += 1
    return frame_view(g[1])


def unmap_grant(ref):
    g = _grants[ref]
    if g[3] <= 0:
        raise GrantFault("ref %d not mapped" % ref)
    g[3] -= 1


def grants_live():
    return len(_grants)


# ---------------------------------------------------------------- event channels
_ports = {}             # port -> {"remote": domid, "handler": fn or None}
_next_port = [5]
_pending = []           # ports raised towards the guest, in order
_masked = {}
_work = []              # backend handlers to run when the guest yields
_virqs = {}
notifies = {}           # port -> number of guest notifications (tests check suppression)


def evtchn_alloc_unbound(remote_domid):
    p = _next_port[0]
    _next_port[0] += 1
    _ports[p] = {"remote": remote_domid, "handler": None}
    return p


def evtchn_bind_virq(virq):
    p = evtchn_alloc_unbound(0)
    _virqs[virq] = p
    return p


def evtchn_notify(port):
    ch = _ports.get(port)
    if ch is None:
        raise ValueError("notify on closed port %d" % port)
    notifies[port] = notifies.get(port, 0) + 1
    if ch["handler"] is not None and ch["handler"] not in _work:
        _work.append(ch["handler"])


def evtchn_mask(port):
    _masked[port] = True


def evtchn_unmask(port):
    _masked.pop(port, None)


def evtchn_close(port):
    _ports.pop(port, None)
    while port in _pending:
        _pending.remove(port)


def bind_backend(port, handler):
    """Backend side: connect to the guest's unbound `port`; `handler()` runs (once per
    batch of notifications) when the guest notifies."""
    if port not in _ports:
        raise ValueError("bind to unknown port %r" % (port,))
    _ports[port]["handler"] = handler


def raise_event(port):
    """Backend side: notify the guest on its `port`."""
    if port in _ports and port not in _pending:
        _pending.append(port)


def run_backends():
    """Run queued backend work until quiet (a backend may queue more)."""
    n = 0
    while _work and n < 10000:
        h = _work.pop(0)
        h()
        n += 1


# ---------------------------------------------------------------- time and blocking
_now = [1000000000]
_wall = [1700000000 * 1000000000]


def time_ns():
    return _now[0]


def wall_ns():
    return _wall[0] + _now[0]


def advance(ns):
    _now[0] += ns


def pending():
    run_backends()
    out = [p for p in _pending if p not in _masked]
    for p in out:
        _pending.remove(p)
    return out


def block(deadline_ns):
    run_backends()
    if [p for p in _pending if p not in _masked]:
        return
    if deadline_ns is not None and deadline_ns > _now[0]:
        _now[0] = deadline_ns


# ---------------------------------------------------------------- the rest of _xen
_console = []
_store_page = [None]
_console_page = [None]
# the keys kernel/port/modxen.c provides
_start_info = {"nr_pages": 8192, "free_pages": 4096, "dom0": False, "store_evtchn": 0,
               "console_evtchn": 0, "cmdline": ""}
shutdowns = []


def console_write(b):
    _console.append(bytes(b))


def console_pump():
    return 0


def shutdown(reason):
    shutdowns.append(reason)


def start_info():
    return dict(_start_info)


def store_page():
    if _store_page[0] is None:
        _store_page[0] = Page()
        _start_info["store_evtchn"] = evtchn_alloc_unbound(0)
    return _store_page[0]


def console_page():
    if _console_page[0] is None:
        _console_page[0] = Page()
        _start_info["console_evtchn"] = evtchn_alloc_unbound(0)
    return _console_page[0]


def mb():
    pass


def rmb():
    pass


def wmb():
    pass


def inet_csum(buf, start=0):
    """Like the kernel's: ones'-complement sum of big-endian 16-bit words plus the initial
    sum `start`, folded, not inverted (the sum of words == int(buf) mod 0xFFFF)."""
    v = int.from_bytes(bytes(buf), "big")
    if len(buf) & 1:
        v <<= 8
    v += start
    if v == 0:
        return 0
    r = v % 0xFFFF
    return r if r else 0xFFFF


# entropy: a CPU without an RNG instruction unless a test names one (hw_rng[0] = (name,
# function of n giving bytes)); a cycle counter that only ever steps by the same amount
hw_rng = [None]
_cycles = [0]


def hw_random(n):
    if not 1 <= n <= 256:
        raise ValueError("hw_random length %d is not in 1..256" % n)
    if hw_rng[0] is None:
        return None
    name, fn = hw_rng[0]
    return (name, fn(n))


def cycles():
    _cycles[0] += 1000
    return _cycles[0]


def reset():
    """Fresh world for the next test."""
    _frames.clear()
    _grants.clear()
    _ports.clear()
    del _pending[:]
    _masked.clear()
    del _work[:]
    _virqs.clear()
    notifies.clear()
    del _console[:]
    del shutdowns[:]
    hw_rng[0] = None
    _store_page[0] = None
    _console_page[0] = None
    _start_info["store_evtchn"] = 0
    _start_info["console_evtchn"] = 0
    for k in stats:
        stats[k] = 0
    gc.collect()            # MicroPython's heap is small: old pages go now
    g = sys.modules.get("morgana.xen.gnttab")
    if g is not None:
        g.drop_parked()     # its parked refs belonged to the old world
    x = sys.modules.get("morgana.xen.xenstore")
    if x is not None:
        x._client[0] = None     # the domain's connection was to the old store page


sys.modules["_xen"] = sys.modules[__name__]


class FakePlatform:
    """morgana.sched platform over the fake (sched.set_platform(fake_xen.platform))."""

    def now_ns(self):
        return _now[0]

    def wall_ns(self):
        return wall_ns()

    def wait(self, deadline_ns, rfds, wfds):
        if rfds or wfds:
            raise RuntimeError("fake Xen platform has no file descriptors")
        ports = pending()
        if ports or deadline_ns == 0:
            return [], [], ports
        if deadline_ns is None:
            # A real guest would sleep forever: in a test that is a hang, so fail.
            raise RuntimeError("blocked with no timer and no event pending")
        block(deadline_ns)
        return [], [], pending()

    def write_console(self, b):
        console_write(b)

    def exit(self, code):
        shutdown(0 if code == 0 else 3)


platform = FakePlatform()


def run(coro):
    """sched.run(coro) on the fake platform (call reset() and set up backends first)."""
    from morgana import sched
    sched.set_platform(platform)
    try:
        return sched.run(coro)
    finally:
        sched.set_platform(None)    # later tests get the default platform back
