# asyncio's Event, Lock and ThreadSafeFlag over sched's wakeups.
from morgana import sched
from morgana.aio import core


class _Park:
    # Suspend the current task once; whoever registered it wakes it (sched._wake).
    def __iter__(self):
        yield

    __await__ = __iter__


_park = _Park()


class Event:
    """set() wakes every waiter; wait() returns True at once while it is set."""

    def __init__(self):
        self._set = False
        self._p = None        # the Promise the current waiters wait on

    def is_set(self):
        return self._set

    def set(self):
        self._set = True
        p = self._p
        if p is not None:
            self._p = None
            p.wakeup(True)

    def clear(self):
        self._set = False

    async def wait(self):
        if not self._set:
            p = self._p
            if p is None:
                p = self._p = sched.Promise()
            await p
        return True


class Lock:
    """A mutex; release() hands it to the first waiter (FIFO), as MicroPython does."""

    def __init__(self):
        self._state = 0      # 0 free, 1 held, or the task it was handed to
        self._waiters = []   # (task, token)

    def locked(self):
        return self._state == 1

    def release(self):
        if self._state != 1:
            raise RuntimeError("Lock not acquired")
        ws = self._waiters
        while ws:
            w = ws.pop(0)
            if sched._wake(w[0], w[1]):
                self._state = w[0]
                return
        self._state = 0

    async def acquire(self):
        if self._state != 0:
            t = sched._current
            w = (t, t._ws)
            self._waiters.append(w)
            try:
                await _park
            except BaseException:
                if self._state is t:    # handed the lock just as we were cancelled
                    self._state = 1
                    self.release()
                elif w in self._waiters:
                    self._waiters.remove(w)
                raise
        self._state = 1
        return True

    async def __aenter__(self):
        return await self.acquire()

    async def __aexit__(self, exc_type, exc, tb):
        self.release()


class ThreadSafeFlag:
    """A self-clearing flag with one waiter. set() may be called from outside any task
    (a micropython.schedule callback, a driver's receive hook)."""

    def __init__(self):
        self._flag = 0
        self._w = None

    def set(self):
        self._flag = 1
        w = self._w
        if w is not None:
            self._w = None
            core.wake_soon(w[0], w[1])

    def clear(self):
        self._flag = 0

    async def wait(self):
        if not self._flag:
            t = sched._current
            w = self._w = (t, t._ws)
            try:
                await _park
            finally:
                if self._w is w:
                    self._w = None
        self._flag = 0
