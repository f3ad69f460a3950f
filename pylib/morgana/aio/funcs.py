# wait_for and gather over sched's promises.
from heapq import heappush
from morgana import sched
from morgana.aio import core

_PENDING = sched.PENDING
_FAILED = sched.FAILED


class _Settled:
    # await until promise p is settled, whatever its outcome (nothing raised, nothing
    # returned). Cancelling the waiter is not forwarded to p.
    def __init__(self, p):
        self.p = p

    def __iter__(self):
        p = self.p
        if p._state == _PENDING:
            t = sched._current
            w = (t, t._ws)
            p._waiters.append(w)
            try:
                yield
            finally:
                p._unwait(w)

    __await__ = __iter__


_TIMEOUT = object()


class _Until:
    # await until promise p settles (True) or deadline_ns passes (False). The waiter is
    # woken after the tasks already due to run when p settles, as in MicroPython and
    # CPython, where the result goes through one more task or callback.
    def __init__(self, p, deadline_ns):
        self.p = p
        self.deadline = deadline_ns

    def __iter__(self):
        p = self.p
        if p._state != _PENDING:
            return True
        t = sched._current
        tok = t._ws

        def settled(_p):
            core.wake_soon(t, tok)

        p._waiters.append(settled)
        sched._seq += 1
        heappush(sched._timers, (self.deadline, sched._seq, t, tok, _TIMEOUT))
        try:
            yield
        finally:
            p._unwait(settled)
        return p._state != _PENDING

    __await__ = __iter__


async def wait_for(aw, timeout):
    """aw's result, or TimeoutError after timeout seconds (None: no limit). On timeout aw
    is cancelled and waited for; cancelling wait_for cancels aw."""
    t = core._promote(aw)
    if timeout is None:
        return await t
    try:
        done = await _Until(t, sched._now_ns + int(timeout * 1000000000))
    except BaseException:
        t.cancel()                      # we were cancelled: so is aw
        raise
    if done:
        _retrieved(t)
        return t.result()
    t.cancel()
    await _Settled(t)
    raise core.TimeoutError()


def wait_for_ms(aw, timeout):
    return wait_for(aw, timeout / 1000 if timeout is not None else None)


def _retrieved(t):
    if isinstance(t, core.Task):
        t._retrieved = True


async def gather(*aws, return_exceptions=False):
    """List of the results of aws, in order. With return_exceptions, exceptions are
    results too; without, the first exception is raised (the others keep running).
    Cancelling gather cancels every awaitable still running."""
    ts = [core._promote(a) for a in aws]
    if not ts:
        return []
    done = sched.Promise()
    left = [len(ts)]

    def on_done(t):
        if done._state != _PENDING:
            return
        if t._state == _FAILED and not return_exceptions:
            done.wakeup(t)
        else:
            left[0] -= 1
            if left[0] == 0:
                done.wakeup(None)

    for t in ts:
        sched.Promise.add_callback(t, on_done)
    try:
        failed = await done
    except BaseException:
        for t in ts:
            t._unwait(on_done)
            t.cancel()
        raise
    for t in ts:
        t._unwait(on_done)
    if failed is not None:
        _retrieved(failed)
        raise failed._value
    out = []
    for t in ts:
        _retrieved(t)
        out.append(t._value)
    return out
