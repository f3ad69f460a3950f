# Lwt-style cooperative scheduler on async/await, portable to CPython and MicroPython.
#
# A Task drives one coroutine. Awaitables are objects whose __iter__ registers the current
# task somewhere (timer heap, promise waiters, fd or event-port table) and yields None; the
# loop resumes the task with coro.send(value) or coro.throw(exc) when that registration
# fires. Every suspension gets a fresh token (task._ws) so a stale registration (the
# timer of a sleep that was cancelled, a second promise in choose) can never wake the task
# out of a later wait: wakeups carrying an old token are ignored.
#
# When nothing is runnable the loop asks the platform to block until the earliest timer
# or an fd / event-channel event: select.poll on Unix, SCHEDOP_block on Xen.
from heapq import heappush, heappop, heapify


class CancelledError(BaseException):
    """Raised inside a task at its await point when it is cancelled. Named as asyncio
    names it (morgana.aio uses this very class), so it prints the same on both."""


Cancelled = CancelledError


class Timeout(Exception):
    """Raised by with_timeout when the deadline passes first."""


# Promise / task states
PENDING = 0
RESOLVED = 1
FAILED = 2

_plat = None          # platform module: now_ns, wall_ns, wait, write_console, exit
_current = None       # the task being stepped
_runq = []            # tasks ready to step (swapped as a whole each round)
_timers = []          # heap of [deadline_ns, seq, task, token, value]
_seq = 0              # tie-breaker: equal deadlines fire in registration order
_now_ns = 0           # loop time, refreshed after each platform wait
_running = False
_rwait = {}           # fd -> (task, token)
_wwait = {}
_pwait = {}           # event port -> list of (task, token)
_fired = set()        # ports that fired while nobody waited (latched, not lost)
_exc_hook = None


def set_platform(p):
    global _plat
    _plat = p


def platform():
    global _plat
    if _plat is None:
        from morgana import plat_unix
        _plat = plat_unix
    return _plat


def now():
    """Monotonic seconds. Inside the loop this is the time of the current round, so
    deadlines computed from it are consistent with the timer heap."""
    if _running:
        return _now_ns / 1e9
    return platform().now_ns() / 1e9


def now_ns():
    if _running:
        return _now_ns
    return platform().now_ns()


def current():
    return _current


def set_exception_hook(fn):
    """fn(task, exc) is called when a task fails and nobody is waiting for it."""
    global _exc_hook
    _exc_hook = fn


def _default_hook(task, exc):
    import sys
    msg = "[sched] task %s failed: %r\n" % (task.name or "?", exc)
    try:
        platform().write_console(msg.encode())
    except Exception:
        print(msg, end="")
    if hasattr(sys, "print_exception"):
        sys.print_exception(exc)


def _wake(task, token, value=None, exc=None):
    # A registration fires: resume the task unless the wait it belongs to is over.
    if task._ws != token or task._state != PENDING:
        return False
    token += 1
    task._ws = token
    task._due = None
    task._send = value
    task._exc = exc
    task._queued = True
    _runq.append((task, token))
    return True


def _deliver_cancel(t):
    # Synchronous, like Lwt.cancel: the task's handlers run before cancel() returns.
    # Bumping the token makes its pending registrations and run-queue entry stale.
    t._ws += 1
    t._send = None
    t._exc = Cancelled()
    _step(t)


class Promise:
    """A wait/wakeup pair: `await p` until p.wakeup(v) or p.wakeup_exn(e)."""

    def __init__(self):
        self._state = PENDING
        self._value = None
        self._waiters = []   # (task, token) tuples or callables cb(promise)

    def done(self):
        return self._state != PENDING

    def failed(self):
        return self._state == FAILED

    def result(self):
        if self._state == RESOLVED:
            return self._value
        if self._state == FAILED:
            raise self._value
        raise RuntimeError("promise is still pending")

    def exception(self):
        return self._value if self._state == FAILED else None

    def wakeup(self, value=None):
        if self._state != PENDING:
            raise RuntimeError("wakeup of an already resolved promise")
        self._settle(RESOLVED, value)

    def wakeup_exn(self, exc):
        if self._state != PENDING:
            raise RuntimeError("wakeup_exn of an already resolved promise")
        if not isinstance(exc, BaseException):
            raise TypeError("wakeup_exn needs an exception instance, got %r" % (exc,))
        self._settle(FAILED, exc)

    def cancel(self):
        # A bare promise is cancelled by failing it with Cancelled (Lwt.task semantics).
        if self._state == PENDING:
            self._settle(FAILED, Cancelled())
            return True
        return False

    def _settle(self, state, value):
        self._state = state
        self._value = value
        ws = self._waiters
        self._waiters = None
        observed = False
        for w in ws:
            if type(w) is tuple:
                observed = _wake(w[0], w[1]) or observed
            else:
                w(self)
                observed = True
        if state == FAILED and not observed:
            self._unobserved(value)

    def _unobserved(self, exc):
        pass

    def add_callback(self, cb):
        """cb(promise) runs synchronously when the promise settles (now if it has)."""
        if self._state != PENDING:
            cb(self)
        else:
            self._waiters.append(cb)

    def _unwait(self, w):
        if self._state == PENDING:
            try:
                self._waiters.remove(w)
            except ValueError:
                pass

    def __iter__(self):
        if self._state == PENDING:
            t = _current
            if t is None:
                raise RuntimeError("await outside a task")
            w = (t, t._ws)
            self._waiters.append(w)
            try:
                yield
            finally:
                self._unwait(w)
        return self.result()

    __await__ = __iter__


class Task(Promise):
    """A promise driven by a coroutine. Awaiting it gives the coroutine's result."""

    def __init__(self, coro, name=None):
        Promise.__init__(self)
        if not hasattr(coro, "send"):
            raise TypeError("spawn needs a coroutine, got %r" % (coro,))
        self.coro = coro
        self.name = name
        self._ws = 1
        self._due = None         # deadline of the timer that resumed it (see _Sleep)
        self._send = None
        self._exc = None
        self._busy = False       # its coroutine is executing (maybe further up the stack)
        self._cancel_req = False
        self._queued = True      # has a live run-queue entry (asyncio's cancel keeps it)
        _runq.append((self, 1))

    def cancel(self):
        """Throw Cancelled into the task at its await point. False if already done."""
        if self._state != PENDING:
            return False
        if self._busy:
            self._cancel_req = True   # delivered at its next suspension
        else:
            _deliver_cancel(self)
        return True

    def _unobserved(self, exc):
        if not isinstance(exc, Cancelled):
            (_exc_hook or _default_hook)(self, exc)

    def __repr__(self):
        return "<Task %s>" % (self.name or id(self))


def _step(t):
    global _current
    exc = t._exc
    val = t._send
    t._exc = t._send = None
    t._queued = False
    prev = _current          # not None when a cancel steps a task synchronously
    _current = t
    t._busy = True
    try:
        if exc is not None:
            t.coro.throw(exc)
        else:
            t.coro.send(val)
    except StopIteration as e:
        t._busy = False
        _current = prev
        t._settle(RESOLVED, e.value)
        return
    except Exception as e:
        t._busy = False
        _current = prev
        t._settle(FAILED, e)
        return
    except Cancelled as e:
        t._busy = False
        _current = prev
        t._settle(FAILED, e)
        return
    t._busy = False
    _current = prev
    if t._cancel_req:
        t._cancel_req = False
        _deliver_cancel(t)


def spawn(coro, name=None):
    """Start coro as a task (it runs from the next round); returns the Task."""
    return Task(coro, name)


async def _await(aw):
    return await aw


def _as_task(aw):
    # Promises and tasks as they are; coroutines and other awaitables get a task.
    if isinstance(aw, Promise):
        return aw
    if hasattr(aw, "send"):
        return Task(aw)
    if hasattr(aw, "__iter__"):
        return Task(_await(aw))
    raise TypeError("not awaitable: %r" % (aw,))


class _Sleep:
    # A task resumed by a timer counts its next sleep from when that timer was due, not
    # from when it actually ran: periodic loops don't drift, and loops with equal periods
    # keep Lwt's order (equal deadlines fire in registration order) however late the
    # loop runs them. A task later than the new sleep itself counts from now.
    def __init__(self, ns):
        self.ns = ns

    def __iter__(self):
        global _seq
        t = _current
        if t is None:
            raise RuntimeError("await outside a task")
        if self.ns <= 0:
            _wake(t, t._ws)   # just yield the round to others
        else:
            base = t._due
            if base is None or base + self.ns <= _now_ns:
                base = _now_ns
            _seq += 1
            heappush(_timers, (base + self.ns, _seq, t, t._ws, None))
        yield

    __await__ = __iter__


def sleep(seconds):
    """await sleep(s): resume after s seconds (0 yields to the other ready tasks)."""
    return _Sleep(int(seconds * 1000000000))


def sleep_ns(ns):
    return _Sleep(int(ns))


async def join(aws):
    """Wait for all; list of results in order. The first failure cancels the rest and is
    raised. Cancelling the joining task cancels them all."""
    tasks = [_as_task(a) for a in aws]
    if not tasks:
        return []
    done = Promise()
    left = [len(tasks)]

    def on_done(t):
        if done._state != PENDING:
            return
        if t._state == FAILED:
            done._settle(FAILED, t._value)
        else:
            left[0] -= 1
            if left[0] == 0:
                done._settle(RESOLVED, None)

    for t in tasks:
        t.add_callback(on_done)
    try:
        await done
    except BaseException:
        for t in tasks:
            t.cancel()
        raise
    return [t._value for t in tasks]


async def choose(aws):
    """Result of the first to finish (or its exception); the others are cancelled."""
    tasks = [_as_task(a) for a in aws]
    if not tasks:
        raise ValueError("choose of an empty list")
    first = Promise()

    def on_done(t):
        if first._state == PENDING:
            first._settle(RESOLVED, t)

    for t in tasks:
        t.add_callback(on_done)
        if first._state != PENDING:
            break
    try:
        winner = await first
    finally:
        for t in tasks:
            t.cancel()
    return winner.result()


class _WaitUntil:
    # await a promise, giving up at deadline_ns (then yields _TIMEOUT).
    def __init__(self, p, deadline_ns):
        self.p = p
        self.deadline = deadline_ns

    def __iter__(self):
        global _seq
        p = self.p
        if p._state == PENDING:
            t = _current
            w = (t, t._ws)
            p._waiters.append(w)
            _seq += 1
            heappush(_timers, (self.deadline, _seq, t, t._ws, _TIMEOUT))
            try:
                v = yield
            finally:
                p._unwait(w)
            if v is _TIMEOUT:
                raise Timeout()
        return p.result()

    __await__ = __iter__


_TIMEOUT = object()


async def with_timeout(seconds, aw):
    """Result of aw, or raise Timeout after seconds (aw is then cancelled)."""
    t = _as_task(aw)
    try:
        return await _WaitUntil(t, _now_ns + int(seconds * 1000000000))
    except BaseException:
        t.cancel()
        raise


class Queue:
    """Bounded FIFO between a producer (often a driver) and consuming tasks."""

    def __init__(self, maxlen=64):
        if maxlen < 1:
            raise ValueError("Queue maxlen must be >= 1, got %r" % (maxlen,))
        self.maxlen = maxlen
        self._items = []
        self._head = 0
        self._getters = []
        self.dropped = 0

    def __len__(self):
        return len(self._items) - self._head

    def empty(self):
        return len(self._items) == self._head

    def full(self):
        return len(self) >= self.maxlen

    def put_nowait(self, x):
        """False (and counted in .dropped) when full."""
        if len(self) >= self.maxlen:
            self.dropped += 1
            return False
        self._items.append(x)
        self._wake_one()
        return True

    def _wake_one(self):
        g = self._getters
        while g:
            w = g.pop(0)
            if _wake(w[0], w[1]):
                return

    def get_nowait(self):
        if self.empty():
            raise IndexError("get_nowait on an empty Queue")
        x = self._items[self._head]
        self._items[self._head] = None
        self._head += 1
        if self._head > 32 and self._head * 2 > len(self._items):
            del self._items[:self._head]   # compact: amortised O(1) pops
            self._head = 0
        return x

    def __iter__(self):
        # `await q.get()`: the queue object itself is the awaitable.
        while self.empty():
            t = _current
            w = (t, t._ws)
            self._getters.append(w)
            try:
                yield
            except BaseException:
                if w in self._getters:
                    self._getters.remove(w)
                elif not self.empty():
                    self._wake_one()   # we were handed an item we won't take
                raise
        return self.get_nowait()

    __await__ = __iter__

    def get(self):
        return self


class _FdWait:
    def __init__(self, table, fd):
        self.table = table
        self.fd = fd

    def __iter__(self):
        t = _current
        fd = self.fd
        tab = self.table
        old = tab.get(fd)
        if old is not None and old[0]._ws == old[1] and old[0]._state == PENDING:
            raise RuntimeError("fd %d already has a waiter (%r)" % (fd, old[0]))
        w = (t, t._ws)
        tab[fd] = w
        try:
            yield
        finally:
            if tab.get(fd) is w:
                del tab[fd]

    __await__ = __iter__


def _fileno(fd):
    return fd if isinstance(fd, int) else fd.fileno()


def readable(fd):
    """await until fd (int or object with fileno()) is readable (Unix platforms)."""
    return _FdWait(_rwait, _fileno(fd))


def writable(fd):
    return _FdWait(_wwait, _fileno(fd))


class _EventWait:
    def __init__(self, port):
        self.port = port

    def __iter__(self):
        port = self.port
        if port in _fired:
            _fired.discard(port)   # it fired while we were busy: don't block
            return
        t = _current
        w = (t, t._ws)
        lst = _pwait.get(port)
        if lst is None:
            lst = _pwait[port] = []
        lst.append(w)
        try:
            yield
        finally:
            lst = _pwait.get(port)
            if lst is not None and w in lst:
                lst.remove(w)
                if not lst:
                    del _pwait[port]

    __await__ = __iter__


def event(port):
    """await until event-channel port fires (Xen). Events that fire while no task
    waits are latched, so checking a ring then awaiting the event never loses one."""
    return _EventWait(port)


def _fire_ports(ports):
    for port in ports:
        lst = _pwait.pop(port, None)
        woke = False
        if lst:
            for w in lst:
                woke = _wake(w[0], w[1]) or woke
        if not woke:
            _fired.add(port)


def _reset():
    global _runq, _timers, _seq, _current
    _runq = []
    _timers = []
    _seq = 0
    _current = None
    _rwait.clear()
    _wwait.clear()
    _pwait.clear()
    _fired.clear()


def _live(w):
    return w[0]._ws == w[1] and w[0]._state == PENDING


def _fire_timers():
    tm = _timers
    now = _now_ns
    while tm and tm[0][0] <= now:
        e = heappop(tm)
        if _wake(e[2], e[3], e[4]):
            e[2]._due = e[0]


def _next_deadline():
    # Drop cancelled sleeps from the top so they don't wake the loop for nothing.
    tm = _timers
    while tm:
        e = tm[0]
        if e[2]._ws == e[3] and e[2]._state == PENDING:
            return e[0]
        heappop(tm)
    return None


def _compact_timers():
    # Many cancelled timeouts (with_timeout around fast operations) would otherwise
    # stay in the heap until their deadline.
    global _timers
    live = [e for e in _timers if e[2]._ws == e[3] and e[2]._state == PENDING]
    if len(live) * 2 < len(_timers):
        heapify(live)
        _timers = live


def run(coro, keep=False):
    """Run the loop until coro (or a Promise/Task) finishes; return its value or raise
    its exception. keep=True (asyncio's loop.run_forever/run_until_complete): stop
    right after coro's step, leave the other tasks, timers and waits for the next run,
    and return None instead of the deadlock error when nothing can wake coro."""
    global _running, _now_ns, _runq
    if _running:
        raise RuntimeError("sched.run called from inside the running loop")
    plat = platform()
    # no reset here: tasks spawned before run() start with it (state is reset on exit)
    _now_ns = plat.now_ns()
    _running = True
    try:
        # a promise or task (asyncio's run_until_complete) is run for as it is
        main = coro if isinstance(coro, Promise) else Task(coro, "main")
        if main._state == PENDING:
            main._waiters.append(lambda p: None)   # main's failure is raised, not hooked
        rounds = 0
        while main._state == PENDING:
            q = _runq
            if q:
                _runq = []
                if keep:
                    _step_until(q, main)
                else:
                    for e in q:
                        t = e[0]
                        if t._ws == e[1] and t._state == PENDING:
                            _step(t)
                if main._state != PENDING:
                    break
            rounds += 1
            if rounds & 1023 == 0 and len(_timers) > 1024:
                _compact_timers()
            deadline = _next_deadline()
            if _runq:
                deadline = 0   # poll for I/O without blocking
            elif deadline is None and not _rwait and not _wwait and not _pwait:
                if keep:
                    return None
                raise RuntimeError("deadlock: main task waits but no timer, fd or "
                                   "event can ever wake it")
            rfds = [fd for fd in _rwait if _live(_rwait[fd])]
            wfds = [fd for fd in _wwait if _live(_wwait[fd])]
            r, w, ports = plat.wait(deadline, rfds, wfds)
            _now_ns = plat.now_ns()
            for fd in r:
                x = _rwait.pop(fd, None)
                if x is not None:
                    _wake(x[0], x[1])
            for fd in w:
                x = _wwait.pop(fd, None)
                if x is not None:
                    _wake(x[0], x[1])
            if ports:
                _fire_ports(ports)
            _fire_timers()
        return main.result()
    finally:
        _running = False
        if not keep:
            _close_unstarted()
            _reset()


def _step_until(q, main):
    # One round of run(keep=True): the tasks after main's step wait for the next run.
    global _runq
    i = 0
    n = len(q)
    while i < n:
        e = q[i]
        i += 1
        t = e[0]
        if t._ws == e[1] and t._state == PENDING:
            _step(t)
            if main._state != PENDING:
                if i < n:
                    _runq = q[i:] + _runq
                return


def _close_unstarted():
    # Tasks spawned but never stepped when the loop ends: closing their coroutines runs
    # none of their code, and spares CPython's "coroutine was never awaited" warning.
    for e in _runq:
        c = e[0].coro
        if getattr(c, "cr_suspended", True) is False and c.cr_frame is not None \
                and not c.cr_running:
            c.close()
