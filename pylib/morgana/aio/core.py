# asyncio's tasks and loop, as a layer over morgana.sched (one scheduler: sched owns the
# platform wait, the drivers and the TCP stack wake it; nothing here polls).
#
# Differences from sched that asyncio code expects, and how they are had:
# - cancel() is deferred: the task is woken with CancelledError from the run queue
#   (sched's own cancel runs the handlers synchronously, Lwt-style);
# - cancelling a task that awaits another task cancels the awaited one (the
#   cancellation comes back up through the await, as in MicroPython and CPython);
# - a task whose exception nobody retrieves is reported one round later through the
#   loop's exception handler, unless it was awaited meanwhile;
# - the loop persists between run_until_complete/run_forever calls (sched.run keep=True)
#   until new_event_loop(); asyncio.run() cancels what is left when its task is done.
import sys
from heapq import heappush
from morgana import sched

CancelledError = sched.CancelledError      # the very class sched throws
TimeoutError = sched.Timeout                # what sched.with_timeout raises, too


class InvalidStateError(Exception):
    pass


_PENDING = sched.PENDING
_live = set()          # asyncio tasks not done yet (cancelled when asyncio.run ends)
_servers = set()       # open servers of start_server (closed by new_event_loop, run's end)
_reports = [0]         # unretrieved-exception reports not yet made


class Task(sched.Task):
    """A sched Task with asyncio's cancel() and await. Created by create_task()."""

    def __init__(self, coro, name=None):
        sched.Task.__init__(self, coro, name)
        self._retrieved = False
        _live.add(self)

    def __iter__(self):
        if self._state == _PENDING:
            t = sched._current
            if t is None:
                raise RuntimeError("await outside a task")
            w = (t, t._ws)
            self._waiters.append(w)
            t._awaiting = self          # cancel() of t is forwarded to us
            try:
                yield
            finally:
                t._awaiting = None
                self._unwait(w)
        self._retrieved = True
        return self.result()

    __await__ = __iter__

    def cancel(self, msg=None):
        """Request cancellation: the task gets CancelledError when it next runs (or the
        task it awaits does). False if it is done already."""
        if self._state != _PENDING:
            return False
        if self is sched._current:
            raise RuntimeError("can't cancel self")
        t = self
        while True:
            a = getattr(t, "_awaiting", None)
            if a is None or a._state != _PENDING:
                break
            t = a
        if t._busy:                       # running further up the stack
            t._cancel_req = True
        else:
            throw(t, CancelledError())
        return True

    def get_coro(self):
        return self.coro

    def result(self):
        self._retrieved = True
        if self._state == _PENDING:
            raise InvalidStateError("result is not set")
        return sched.Task.result(self)

    def exception(self):
        self._retrieved = True
        if self._state == _PENDING:
            raise InvalidStateError("exception is not set")
        return sched.Task.exception(self)

    def add_callback(self, cb):
        self._retrieved = True
        sched.Task.add_callback(self, cb)

    def _settle(self, state, value):
        _live.discard(self)
        sched.Task._settle(self, state, value)

    def _unobserved(self, exc):
        # MicroPython and CPython both give the program a chance to await a task that
        # failed before reporting it: here, one round.
        if not isinstance(exc, CancelledError):
            _reports[0] += 1
            sched.spawn(_report(self, exc), "asyncio-report")


def throw(t, exc):
    """Make pending task t raise exc when it next runs. A task already due to run keeps
    its place in the run queue (tasks cancelling each other cannot starve the rest)."""
    if t._queued:
        t._exc = exc
        t._send = None
    else:
        sched._wake(t, t._ws, None, exc)


def wake_soon(t, token):
    """Wake t (if token is still its wait's) after the tasks already due to run: at the
    loop's next timer check, as MicroPython's asyncio delivers readiness at its next
    poll. (A due timer in sched's heap.)"""
    sched._seq += 1
    heappush(sched._timers, (sched._now_ns, sched._seq, t, token, None))


async def _report(t, exc):
    _reports[0] -= 1
    if not t._retrieved:
        _loop.call_exception_handler({"message": "Task exception wasn't retrieved",
                                      "exception": exc, "future": t})


async def _one_round():
    await sched.sleep(0)


async def _await(aw):
    return await aw


def create_task(coro):
    """Schedule coro as a Task (it starts on the next round). Awaitable objects that are
    not coroutines (sleep(), a sched Promise) are wrapped."""
    if not hasattr(coro, "send"):
        if not hasattr(coro, "__await__"):
            raise TypeError("coroutine expected")
        coro = _await(coro)
    return Task(coro)


def ensure_future(aw, loop=None):
    return _promote(aw)


def _promote(aw):
    # tasks and sched promises as they are, anything else becomes a Task
    if isinstance(aw, sched.Promise):
        return aw
    return create_task(aw)


def current_task(loop=None):
    t = sched._current
    if t is None:
        raise RuntimeError("no running event loop")
    return t


def sleep(t, result=None):
    """await sleep(seconds); 0 or less just lets the other ready tasks run."""
    if result is not None:
        return _sleep_result(t, result)
    return sched.sleep(t)


async def _sleep_result(t, result):
    await sched.sleep(t)
    return result


try:
    import time as _time
    _MAX_MS = _time.ticks_add(0, -1) // 2     # MicroPython: what ticks_add can take
except (ImportError, AttributeError):
    _MAX_MS = None


def sleep_ms(t):
    """MicroPython's extension: sleep t milliseconds (OverflowError beyond what its
    ticks can count, as there; sleep() has no such limit here)."""
    if _MAX_MS is not None and t > _MAX_MS:
        raise OverflowError("ticks interval overflow")
    return sched.sleep_ns(t * 1000000 if t > 0 else 0)


# ------------------------------------------------------------------------------ loop
def _not_running(what):
    if sched._running:
        raise RuntimeError("%s cannot be called from a running event loop" % what)


class Loop:
    """The one event loop (get_event_loop() and new_event_loop() return it)."""

    def __init__(self):
        self._stop = None
        self._exc_handler = None

    def create_task(self, coro):
        return create_task(coro)

    def run_until_complete(self, aw):
        _not_running("run_until_complete()")
        t = _promote(aw)
        sched.run(t, keep=True)
        if t._state == _PENDING:
            return None             # nothing left that could ever finish it
        return t.result()

    def run_forever(self):
        """Run until stop() (or until no task can ever run again)."""
        _not_running("run_forever()")
        self._stop = p = sched.Promise()
        try:
            sched.run(p, keep=True)
        finally:
            self._stop = None

    def stop(self):
        p = self._stop
        if p is not None and not p.done():
            p.wakeup()

    def close(self):
        pass

    def is_running(self):
        return sched._running

    def is_closed(self):
        return False

    def time(self):
        return sched.now()

    def set_exception_handler(self, handler):
        self._exc_handler = handler

    def get_exception_handler(self):
        return self._exc_handler

    def default_exception_handler(self, context):
        out = getattr(sys, "stderr", None) or sys.stdout
        print(context.get("message", "Unhandled exception in event loop"), file=out)
        fut = context.get("future")
        if fut is not None:
            print("future:", fut, "coro=", getattr(fut, "coro", None), file=out)
        exc = context.get("exception")
        if exc is not None:
            if hasattr(sys, "print_exception"):
                sys.print_exception(exc, out)
            else:
                import traceback
                traceback.print_exception(type(exc), exc, exc.__traceback__, file=out)

    def call_exception_handler(self, context):
        (self._exc_handler or Loop.default_exception_handler)(self, context)


_loop = Loop()


def get_event_loop(runq_len=0, waitq_len=0):
    return _loop


def get_running_loop():
    if not sched._running:
        raise RuntimeError("no running event loop")
    return _loop


def new_event_loop():
    """A fresh loop: the tasks, timers and servers of the old one are dropped."""
    if not sched._running:
        _drop_all()
    return _loop


def set_event_loop(loop):
    pass


def _drop_all():
    for s in list(_servers):
        s.close()
    _servers.clear()
    sched._close_unstarted()
    sched._reset()
    _live.clear()
    _reports[0] = 0


def run_until_complete(main_task=None):
    """MicroPython's module-level form: run main_task, or (None) until nothing is left."""
    if main_task is None:
        _not_running("run_until_complete()")
        sched.run(sched.Promise(), keep=True)
        return None
    return _loop.run_until_complete(main_task)


def run(main):
    """Run coroutine main to its end and return its result, then cancel the tasks it
    left running and let them finish. Inside a running loop (a unikernel's main) this
    is a RuntimeError, as in CPython: await the coroutine instead."""
    _not_running("asyncio.run()")
    t = create_task(main)
    try:
        sched.run(t, keep=True)
        if t._state == _PENDING:
            raise RuntimeError("asyncio.run(): main task waits but nothing can ever "
                               "wake it")
        return t.result()
    finally:
        _shutdown()


def _shutdown():
    left = [x for x in _live if x._state == _PENDING]
    for x in left:
        x.cancel()
    for s in list(_servers):
        s.close()
    if left or _reports[0]:
        done = sched.Promise()
        n = [len(left)]

        def one(_t):
            n[0] -= 1
            if n[0] <= 0 and not done.done():
                done.wakeup()

        for x in left:
            sched.Promise.add_callback(x, one)   # observed: no reports for these
        if not left:
            done = sched.spawn(_one_round())      # the pending reports run first
        sched.run(done, keep=True)
    _drop_all()
