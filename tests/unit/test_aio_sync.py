# morgana.aio: wait_for, gather, Event, Lock, ThreadSafeFlag. Portable (CPython and
# MicroPython).
from morgana import sched
from morgana import aio as asyncio


def _fresh():
    asyncio.new_event_loop()
    asyncio.get_event_loop().set_exception_handler(None)


async def _work(log, name, t, result=None, exc=None):
    log.append("start " + name)
    try:
        await asyncio.sleep(t)
    except asyncio.CancelledError:
        log.append("cancel " + name)
        raise
    log.append("end " + name)
    if exc is not None:
        raise exc
    return result


def test_wait_for_result_timeout_and_none():
    _fresh()
    log = []

    async def main():
        r1 = await asyncio.wait_for(_work(log, "a", 0.01, 1), 5)
        t0 = sched.now()
        try:
            await asyncio.wait_for(_work(log, "b", 10, 2), 0.02)
            r2 = "no timeout"
        except asyncio.TimeoutError:
            r2 = "timeout"
        dt = sched.now() - t0
        r3 = await asyncio.wait_for(_work(log, "c", 0.001, 3), None)
        r4 = await asyncio.wait_for_ms(_work(log, "d", 0.001, 4), 1000)
        return r1, r2, dt, r3, r4

    r1, r2, dt, r3, r4 = asyncio.run(main())
    assert (r1, r2, r3, r4) == (1, "timeout", 3, 4)
    assert 0.019 <= dt < 5, dt
    assert log == ["start a", "end a", "start b", "cancel b", "start c", "end c",
                   "start d", "end d"], log


def test_wait_for_waits_for_a_task_that_ignores_the_cancel():
    _fresh()
    log = []

    async def stubborn():
        try:
            await asyncio.sleep(0.2)
        except asyncio.CancelledError:
            log.append("ignored")
        await asyncio.sleep(0.01)
        log.append("stubborn done")

    async def main():
        try:
            await asyncio.wait_for(stubborn(), 0.01)
        except asyncio.TimeoutError:
            log.append("timeout")

    asyncio.run(main())
    assert log == ["ignored", "stubborn done", "timeout"], log


def test_wait_for_passes_exceptions_and_is_cancellable():
    _fresh()
    log = []

    async def main():
        try:
            await asyncio.wait_for(_work(log, "x", 0, exc=KeyError("k")), 1)
        except KeyError:
            log.append("keyerror")
        # an inner timeout (sched.Timeout too) is the inner task's, not ours
        try:
            await asyncio.wait_for(asyncio.wait_for(_work(log, "y", 10), 0.01), 5)
        except asyncio.TimeoutError:
            log.append("inner timeout")

        async def waiter():
            try:
                await asyncio.wait_for(_work(log, "z", 10), 5)
            except asyncio.CancelledError:
                log.append("waiter cancelled")
                raise

        t = asyncio.create_task(waiter())
        await asyncio.sleep(0.01)
        t.cancel()
        try:
            await t
        except asyncio.CancelledError:
            log.append("main saw cancel")
        await asyncio.sleep(0.01)

    asyncio.run(main())
    assert log == ["start x", "end x", "keyerror", "start y", "cancel y", "inner timeout",
                   "start z", "waiter cancelled", "cancel z", "main saw cancel"], log


def test_gather_results_exceptions_and_cancel():
    _fresh()
    log = []

    async def main():
        r = await asyncio.gather(_work(log, "a", 0.02, "A"), _work(log, "b", 0.01, "B"))
        assert r == ["A", "B"], r
        assert await asyncio.gather() == []
        ts = [asyncio.create_task(_work(log, "c", 0.01, "C")),
              asyncio.create_task(_work(log, "d", 0.005, exc=ValueError("d")))]
        r = await asyncio.gather(*ts, return_exceptions=True)
        assert r[0] == "C" and isinstance(r[1], ValueError), r
        # without return_exceptions the first failure is raised, the others go on
        slow = asyncio.create_task(_work(log, "e", 0.05, "E"))
        try:
            await asyncio.gather(slow, _work(log, "f", 0.001, exc=KeyError("f")))
        except KeyError:
            log.append("gather raised")
        assert not slow.done()
        assert await slow == "E"
        # a cancelled task is a CancelledError result with return_exceptions
        t = asyncio.create_task(_work(log, "g", 1))
        t.cancel()
        r = await asyncio.gather(t, return_exceptions=True)
        assert isinstance(r[0], asyncio.CancelledError), r
        # cancelling gather cancels what it waits for
        g = asyncio.create_task(asyncio.gather(_work(log, "h", 10), _work(log, "i", 10)))
        await asyncio.sleep(0.01)
        g.cancel()
        try:
            await g
        except asyncio.CancelledError:
            log.append("gather cancelled")
        await asyncio.sleep(0)

    asyncio.run(main())
    assert log[:4] == ["start a", "start b", "end b", "end a"], log
    assert "gather raised" in log and "end e" in log
    assert "start g" not in log
    assert log[-3:] == ["cancel h", "cancel i", "gather cancelled"], log


def test_gather_of_already_failed_task_raises_at_once():
    _fresh()
    got = []
    asyncio.get_event_loop().set_exception_handler(lambda lp, ctx: got.append(ctx))

    async def bad():
        raise ValueError("early")

    async def main():
        t = asyncio.create_task(bad())
        await asyncio.sleep(0)
        assert t.done()
        try:
            await asyncio.gather(t)
        except ValueError as e:
            return e.args[0]

    assert asyncio.run(main()) == "early"
    asyncio.get_event_loop().set_exception_handler(None)
    assert got == []          # gather retrieved it: no "exception wasn't retrieved"


def test_event_set_clear_wait():
    _fresh()
    log = []
    ev = asyncio.Event()

    async def waiter(i):
        log.append("wait %d" % i)
        r = await ev.wait()
        log.append("woke %d %r" % (i, r))

    async def main():
        assert not ev.is_set()
        ev.set()
        assert ev.is_set()
        assert await ev.wait() is True       # set: no wait
        ev.clear()
        asyncio.create_task(waiter(1))
        asyncio.create_task(waiter(2))
        await asyncio.sleep(0)
        log.append("set")
        ev.set()
        await asyncio.sleep(0)
        ev.clear()
        t = asyncio.create_task(waiter(3))
        await asyncio.sleep(0)
        t.cancel()                             # a cancelled waiter is forgotten
        await asyncio.sleep(0)
        ev.set()
        await asyncio.sleep(0)
        try:
            ev.clear()
            await asyncio.wait_for(ev.wait(), 0.01)
        except asyncio.TimeoutError:
            log.append("timeout")

    asyncio.run(main())
    assert log == ["wait 1", "wait 2", "set", "woke 1 True", "woke 2 True", "wait 3",
                   "timeout"], log


def test_lock_fifo_handoff_and_cancelled_waiters():
    _fresh()
    log = []
    lock = asyncio.Lock()

    async def user(i, hold):
        try:
            async with lock:
                log.append("got %d" % i)
                await asyncio.sleep(hold)
            log.append("released %d" % i)
        except asyncio.CancelledError:
            log.append("cancelled %d" % i)

    async def main():
        assert not lock.locked()
        assert await lock.acquire() is True
        assert lock.locked()
        ts = [asyncio.create_task(user(i, 0.01)) for i in range(4)]
        await asyncio.sleep(0)
        ts[1].cancel()
        lock.release()             # handed to 0, the first waiter
        ts[2].cancel()             # still waiting: dropped from the queue
        for t in ts:
            try:
                await t
            except asyncio.CancelledError:
                pass
        assert not lock.locked()
        try:
            lock.release()
        except RuntimeError:
            log.append("not acquired")

    asyncio.run(main())
    assert log == ["cancelled 1", "got 0", "cancelled 2", "released 0", "got 3",
                   "released 3", "not acquired"], log


def test_lock_handed_to_a_task_cancelled_before_it_runs_passes_on():
    _fresh()
    log = []
    lock = asyncio.Lock()

    async def user(i):
        try:
            await lock.acquire()
        except asyncio.CancelledError:
            log.append("cancelled %d" % i)
            return
        log.append("got %d" % i)
        lock.release()

    async def main():
        await lock.acquire()
        a = asyncio.create_task(user(0))
        b = asyncio.create_task(user(1))
        await asyncio.sleep(0)
        lock.release()             # handed to 0, which has not run yet...
        a.cancel()                 # ...and is cancelled: 1 must get it
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        await b
        return lock.locked()

    assert asyncio.run(main()) is False
    assert log == ["cancelled 0", "got 1"], log


def test_threadsafe_flag():
    _fresh()
    log = []
    flag = asyncio.ThreadSafeFlag()

    async def waiter(i):
        await flag.wait()
        log.append("woke %d" % i)

    async def main():
        t = asyncio.create_task(waiter(1))
        await asyncio.sleep(0)
        flag.set()
        log.append("set")
        await t
        flag.set()                 # set before the wait: no wait, and it clears
        await waiter(2)
        t = asyncio.create_task(waiter(3))
        await asyncio.sleep(0)
        flag.clear()
        await asyncio.sleep(0.005)
        assert not t.done()
        t.cancel()
        await asyncio.sleep(0)
        assert t.done()

    asyncio.run(main())
    assert log == ["set", "woke 1", "woke 2"], log
