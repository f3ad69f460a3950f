# Unix platform for the scheduler: clocks, blocking wait on fds with select.poll,
# console on stdout. Same code on CPython and the MicroPython Unix port.
import sys
import time
import select

try:
    _mono_ns = time.monotonic_ns          # CPython
    _ticks_us = None
except AttributeError:
    _mono_ns = None
    _ticks_us = time.ticks_us              # MicroPython: monotonic, may wrap
    _ticks_diff = time.ticks_diff

_last_us = 0
_acc_us = 0
# MicroPython's ticks wrap (2**30 us on ports with 31-bit small ints); never block longer
# than this so consecutive readings stay within half a period.
_MAX_BLOCK_MS = 60000 if _mono_ns is None else 3600000


def now_ns():
    """Monotonic nanoseconds."""
    global _last_us, _acc_us
    if _mono_ns is not None:
        return _mono_ns()
    t = _ticks_us()
    _acc_us += _ticks_diff(t, _last_us)
    _last_us = t
    return _acc_us * 1000


if _ticks_us is not None:
    _last_us = _ticks_us()
    _acc_us = _last_us


def wall_ns():
    """Nanoseconds since the Unix epoch."""
    return time.time_ns()


def _timeout_ms(deadline_ns):
    if deadline_ns is None:
        return -1
    d = deadline_ns - now_ns()
    if d <= 0:
        return 0
    ms = (d + 999999) // 1000000       # round up: never wake before the deadline
    return ms if ms < _MAX_BLOCK_MS else _MAX_BLOCK_MS


def wait(deadline_ns, rfds=(), wfds=()):
    """Block until deadline_ns (monotonic; None: forever) or an fd is ready.
    Returns (readable fds, writable fds, ports) -- ports is always empty on Unix."""
    ms = _timeout_ms(deadline_ns)
    if not rfds and not wfds:
        if ms < 0:
            raise RuntimeError("plat_unix.wait: nothing to wait for, would block forever")
        if ms > 0:
            time.sleep(ms / 1000)
        return (), (), ()
    p = select.poll()
    flags = {}
    for fd in rfds:
        flags[fd] = select.POLLIN
    for fd in wfds:
        flags[fd] = flags.get(fd, 0) | select.POLLOUT
    for fd in flags:
        p.register(fd, flags[fd])
    try:
        ev = p.poll(ms)
    except OSError as e:
        if e.args and e.args[0] == 4:      # EINTR: the loop will simply wait again
            return (), (), ()
        raise
    r = []
    w = []
    err = select.POLLERR | select.POLLHUP | 0x20   # 0x20: POLLNVAL (fd closed)
    for x in ev:
        fd = x[0] if isinstance(x[0], int) else x[0].fileno()
        m = x[1]
        f = flags.get(fd, 0)
        # errors and hangups wake both directions: the read/write then reports them
        if (m & (select.POLLIN | err)) and (f & select.POLLIN):
            r.append(fd)
        if (m & (select.POLLOUT | err)) and (f & select.POLLOUT):
            w.append(fd)
    return r, w, ()


def write_console(b):
    out = getattr(sys.stdout, "buffer", sys.stdout)
    out.write(b)
    try:
        sys.stdout.flush()
    except AttributeError:
        pass


def exit(code=0):
    sys.exit(code)
