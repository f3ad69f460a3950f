# morgana.aio (asyncio over morgana.sched): tasks, cancellation, the loop, run().
# Portable: pytest on CPython and tests/mprun.py on MicroPython (import morgana.aio
# directly; pylib/compat, which makes it `asyncio`, is for MicroPython targets only).
from morgana import sched
from morgana import aio as asyncio


def _raises(exc_type, fn, *args):
    try:
        fn(*args)
    except exc_type as e:
        return e
    raise AssertionError("expected %s" % exc_type.__name__)


def _fresh():
    asyncio.new_event_loop()
    asyncio.get_event_loop().set_exception_handler(None)


def test_names_map_onto_sched():
    assert asyncio.CancelledError is sched.Cancelled
    assert asyncio.TimeoutError is sched.Timeout
    assert repr(asyncio.CancelledError()) == "CancelledError()"
    assert asyncio.StreamReader is asyncio.Stream and asyncio.StreamWriter is asyncio.Stream
    for name in ("run", "create_task", "sleep", "sleep_ms", "wait_for", "wait_for_ms",
                 "gather", "Event", "Lock", "ThreadSafeFlag", "current_task",
                 "get_event_loop", "new_event_loop", "Task", "start_server",
                 "open_connection", "run_until_complete", "Loop"):
        assert hasattr(asyncio, name), name


def test_run_returns_value_and_raises():
    _fresh()

    async def ok():
        await asyncio.sleep(0)
        return 42

    async def bad():
        raise ValueError("x")

    assert asyncio.run(ok()) == 42
    e = _raises(ValueError, asyncio.run, bad())
    assert e.args == ("x",)


def test_tasks_are_sched_tasks_and_return_values():
    _fresh()
    log = []

    async def child(i):
        log.append(("start", i))
        await asyncio.sleep(0.001 * i)
        return i * 10

    async def main():
        ts = [asyncio.create_task(child(i)) for i in range(3)]
        assert isinstance(ts[0], sched.Task) and not ts[0].done()
        assert log == []                  # they start on the next round
        r = []
        for t in ts:                      # (no await in comprehensions on MicroPython)
            r.append(await t)
        assert all(t.done() for t in ts)
        assert await ts[0] == 0           # awaiting again gives the result again
        return r

    assert asyncio.run(main()) == [0, 10, 20]
    assert log == [("start", 0), ("start", 1), ("start", 2)]


def test_cancel_is_deferred_and_catchable():
    _fresh()
    log = []

    async def sleeper():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            log.append("cancelled")
            raise

    async def main():
        t = asyncio.create_task(sleeper())
        await asyncio.sleep(0)
        assert t.cancel() is True
        log.append("after cancel")        # the task has not run yet (unlike sched's)
        try:
            await t
        except asyncio.CancelledError:
            log.append("main saw it")
        assert t.done() and t.cancel() is False

    t0 = sched.now()
    asyncio.run(main())
    assert log == ["after cancel", "cancelled", "main saw it"], log
    assert sched.now() - t0 < 5


def test_cancel_before_start_never_runs_it():
    _fresh()
    ran = []

    async def body():
        ran.append(1)

    async def main():
        t = asyncio.create_task(body())
        t.cancel()
        try:
            await t
        except asyncio.CancelledError:
            return "cancelled"

    assert asyncio.run(main()) == "cancelled"
    assert ran == []


def test_cancel_forwards_to_the_awaited_task():
    _fresh()
    log = []

    async def inner(allow):
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            log.append("inner cancelled")
            if allow:
                raise
        return "inner done"

    async def outer(allow):
        r = await asyncio.create_task(inner(allow))
        log.append("outer got " + r)
        return r

    async def main():
        t = asyncio.create_task(outer(True))
        await asyncio.sleep(0.01)
        t.cancel()
        try:
            await t
        except asyncio.CancelledError:
            log.append("outer cancelled")
        t = asyncio.create_task(outer(False))      # inner swallows it: outer goes on
        await asyncio.sleep(0.01)
        t.cancel()
        return await t

    assert asyncio.run(main()) == "inner done"
    assert log == ["inner cancelled", "outer cancelled", "inner cancelled",
                   "outer got inner done"], log


def test_cannot_cancel_self():
    _fresh()

    async def main():
        try:
            asyncio.current_task().cancel()
        except RuntimeError as e:
            return str(e)

    assert asyncio.run(main()) == "can't cancel self"


def test_repeated_cancels_keep_the_task_in_its_place():
    # tasks cancelling each other must not starve a third one (MicroPython's
    # asyncio_cancel_fair): a task already due to run keeps its queue position
    _fresh()
    log = []

    async def victim():
        try:
            while True:
                await asyncio.sleep(0)
        except asyncio.CancelledError:
            log.append("victim cancelled")

    async def canceller(i, t):
        for _ in range(20):               # bounded: a starved victim fails, not hangs
            if not t.cancel():
                break
            log.append("c%d" % i)
            await asyncio.sleep(0)
        log.append("done %d" % i)

    async def main():
        t = asyncio.create_task(victim())
        for i in range(3):
            asyncio.create_task(canceller(i, t))
        await t
        await asyncio.sleep(0)

    asyncio.run(main())
    assert log == ["c0", "c1", "c2", "victim cancelled", "done 0", "done 1", "done 2"], log


def test_current_task_outside_and_inside():
    _fresh()
    _raises(RuntimeError, asyncio.current_task)
    seen = []

    async def child():
        seen.append(asyncio.current_task())

    async def main():
        t = asyncio.create_task(child())
        await t
        return t

    t = asyncio.run(main())
    assert seen == [t]


def test_run_inside_a_running_loop_is_refused():
    # a unikernel's main already runs inside sched.run: it awaits instead
    async def inner():
        return 1

    async def main():
        c = inner()
        try:
            asyncio.run(c)
        except RuntimeError as e:
            msg = str(e)
        else:
            msg = None
        return msg, await c

    msg, v = sched.run(main())
    assert "running event loop" in msg and v == 1, msg


def test_run_cancels_what_main_left_running():
    _fresh()
    log = []

    async def forever():
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            log.append("cleaned up")
            raise

    async def main():
        asyncio.create_task(forever())
        await asyncio.sleep(0.001)
        return "main"

    t0 = sched.now()
    assert asyncio.run(main()) == "main"
    assert log == ["cleaned up"]
    assert sched.now() - t0 < 5
    assert sched._runq == [] and sched._timers == []      # nothing leaks to later runs


def test_unretrieved_exception_goes_to_the_handler_once():
    _fresh()
    got = []
    loop = asyncio.get_event_loop()
    loop.set_exception_handler(lambda lp, ctx: got.append((lp, ctx["exception"].args)))
    assert loop.get_exception_handler() is not None

    async def boom(i):
        raise ValueError(i)

    async def main():
        asyncio.create_task(boom(1))              # never awaited: reported
        t = asyncio.create_task(boom(2))          # awaited a round later: not reported
        await asyncio.sleep(0)
        try:
            await t
        except ValueError:
            pass
        for _ in range(3):
            await asyncio.sleep(0)

    asyncio.run(main())
    loop.set_exception_handler(None)
    assert got == [(loop, (1,))], got


def test_loop_run_forever_stop_and_persistence():
    _fresh()
    log = []
    loop = asyncio.get_event_loop()

    async def ticker():
        for i in range(3):
            log.append(i)
            if i == 1:
                loop.stop()
            await asyncio.sleep(0)
        loop.stop()

    loop.create_task(ticker())
    loop.run_forever()
    assert log == [0, 1]          # stopped, the ticker waits for the next run
    loop.run_forever()
    assert log == [0, 1, 2]
    assert loop.run_until_complete(asyncio.sleep(0.001)) is None

    async def seven():
        return 7

    assert loop.run_until_complete(seven()) == 7
    loop.close()
    _fresh()


def test_new_event_loop_drops_the_old_tasks():
    log = []

    async def task():
        log.append("ran")

    asyncio.create_task(task())       # queued, never run: the new loop forgets it
    asyncio.new_event_loop()
    asyncio.run(asyncio.sleep(0))
    assert log == []


def test_sleep_ms_and_limits():
    _fresh()

    async def main():
        t0 = sched.now()
        await asyncio.sleep_ms(20)
        dt = sched.now() - t0
        await asyncio.sleep(-1)          # negative: just a yield
        return dt

    dt = asyncio.run(main())
    assert 0.019 <= dt < 2, dt
    if asyncio.core._MAX_MS is not None:
        _raises(OverflowError, asyncio.sleep_ms, asyncio.core._MAX_MS + 1)


def test_ensure_future_and_awaitables_that_are_not_coroutines():
    _fresh()

    async def main():
        t = asyncio.create_task(asyncio.sleep(0.001))     # an awaitable object
        p = sched.Promise()
        assert asyncio.ensure_future(p) is p
        p.wakeup(5)
        await t
        return await asyncio.ensure_future(p)

    assert asyncio.run(main()) == 5
    _raises(TypeError, asyncio.create_task, 42)
