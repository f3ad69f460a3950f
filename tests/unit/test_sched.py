# Scheduler semantics: sleeps, join, choose, promises, timeouts, cancellation, queues.
# Portable: runs under pytest (CPython) and tests/mprun.py (MicroPython).
from morgana import sched


def _raises(exc_type, fn, *args):
    try:
        fn(*args)
    except exc_type as e:
        return e
    raise AssertionError("expected %s" % exc_type.__name__)


class Boom(Exception):
    pass


def test_run_returns_value_and_raises():
    async def ok():
        return 7

    async def bad():
        raise Boom("x")

    assert sched.run(ok()) == 7
    e = _raises(Boom, sched.run, bad())
    assert e.args == ("x",)


def test_sleeps_wake_in_deadline_order():
    log = []

    async def w(name, d):
        await sched.sleep(d)
        log.append(name)

    async def main():
        for name, d in (("c", 0.03), ("a", 0.01), ("d", 0.04), ("b", 0.02)):
            sched.spawn(w(name, d))
        await sched.sleep(0.05)

    sched.run(main())
    assert log == ["a", "b", "c", "d"], log


def test_equal_deadlines_fire_in_registration_order():
    log = []

    async def w(i):
        await sched.sleep(0.01)
        log.append(i)

    async def main():
        await sched.join([w(i) for i in range(20)])

    sched.run(main())
    assert log == list(range(20)), log


def test_sleep_lasts_at_least_requested():
    async def main():
        t0 = sched.now()
        await sched.sleep(0.02)
        return sched.now() - t0

    dt = sched.run(main())
    assert 0.02 <= dt < 0.5, dt


def test_sleep_zero_yields_round_robin():
    log = []

    async def w(n):
        for i in range(3):
            log.append((n, i))
            await sched.sleep(0)

    async def main():
        await sched.join([w("a"), w("b")])

    sched.run(main())
    assert log == [("a", 0), ("b", 0), ("a", 1), ("b", 1), ("a", 2), ("b", 2)], log


def test_join_results_in_order():
    async def w(v, d):
        await sched.sleep(d)
        return v

    async def main():
        return await sched.join([w(1, 0.03), w(2, 0.01), w(3, 0.0)])

    assert sched.run(main()) == [1, 2, 3]
    assert sched.run(sched.join([])) == []


def test_join_first_exception_cancels_others():
    state = {}

    async def slow():
        try:
            await sched.sleep(10)
            state["slow"] = "finished"
        except sched.Cancelled:
            state["slow"] = "cancelled"
            raise

    async def fails():
        await sched.sleep(0.01)
        raise Boom("join")

    async def main():
        t0 = sched.now()
        try:
            await sched.join([slow(), fails()])
        except Boom as e:
            return e.args[0], sched.now() - t0

    msg, dt = sched.run(main())
    assert msg == "join"
    assert dt < 1.0, dt           # did not wait for the slow one
    assert state["slow"] == "cancelled"


def test_choose_first_wins_rest_cancelled():
    state = []

    async def w(v, d):
        try:
            await sched.sleep(d)
            return v
        except sched.Cancelled:
            state.append(v)
            raise

    async def main():
        return await sched.choose([w("slow", 1), w("fast", 0.01), w("slower", 2)])

    assert sched.run(main()) == "fast"
    assert sorted(state) == ["slow", "slower"]


def test_choose_propagates_first_failure():
    async def fails():
        await sched.sleep(0.01)
        raise Boom("pick")

    async def never():
        await sched.sleep(10)

    async def main():
        try:
            await sched.choose([never(), fails()])
        except Boom as e:
            return e.args[0]

    assert sched.run(main()) == "pick"


def test_choose_with_already_resolved_promise():
    p = sched.Promise()
    p.wakeup("ready")

    async def never():
        await sched.sleep(10)

    async def main():
        return await sched.choose([never(), p])

    assert sched.run(main()) == "ready"


def test_promise_wait_wakeup_multiple_waiters():
    p = sched.Promise()
    got = []

    async def waiter(n):
        got.append((n, await p))

    async def main():
        ts = [sched.spawn(waiter(i)) for i in range(3)]
        await sched.sleep(0.01)
        assert got == []
        p.wakeup("v")
        await sched.join(ts)

    sched.run(main())
    assert sorted(got) == [(0, "v"), (1, "v"), (2, "v")]
    assert p.done() and p.result() == "v"
    _raises(RuntimeError, p.wakeup, "again")


def test_promise_wakeup_exn_raises_in_awaiter():
    p = sched.Promise()

    async def main():
        sched.spawn(_later(lambda: p.wakeup_exn(Boom("p"))))
        try:
            await p
        except Boom as e:
            return e.args[0]

    assert sched.run(main()) == "p"
    _raises(TypeError, sched.Promise().wakeup_exn, "not an exception")


async def _later(fn, d=0.01):
    await sched.sleep(d)
    fn()


def test_task_exception_propagates_to_awaiter():
    async def bad():
        await sched.sleep(0.01)
        raise Boom("task")

    async def main():
        t = sched.spawn(bad())
        try:
            await t
        except Boom as e:
            return e.args[0], t.done(), t.failed()

    assert sched.run(main()) == ("task", True, True)


def test_cancel_sleeping_task():
    state = []

    async def sleeper():
        try:
            await sched.sleep(10)
        except sched.Cancelled:
            state.append("cancelled")
            raise

    async def main():
        t = sched.spawn(sleeper())
        await sched.sleep(0.01)
        assert t.cancel() is True
        try:
            await t
        except sched.Cancelled:
            state.append("awaiter saw it")
        assert t.cancel() is False     # already done

    t0 = sched.now()
    sched.run(main())
    assert state == ["cancelled", "awaiter saw it"]
    assert sched.now() - t0 < 1.0     # the cancelled sleep's timer did not hold the loop


def test_cancel_before_first_step():
    ran = []

    async def body():
        ran.append(1)

    async def main():
        t = sched.spawn(body())
        t.cancel()
        try:
            await t
        except sched.Cancelled:
            return "cancelled"

    assert sched.run(main()) == "cancelled"
    assert ran == []


def test_cancelled_task_can_clean_up_and_stale_timer_is_ignored():
    log = []

    async def worker():
        try:
            await sched.sleep(0.02)
        except sched.Cancelled:
            log.append("cleanup")
        # keeps running after catching: the old 0.02 timer must not wake this wait
        p = sched.Promise()
        sched.spawn(_later(lambda: p.wakeup("late"), 0.06))
        log.append(await p)

    async def main():
        t = sched.spawn(worker())
        await sched.sleep(0.005)
        t.cancel()
        await t
        return sched.now()

    sched.run(main())
    assert log == ["cleanup", "late"], log


def test_self_cancel_delivered_at_next_await():
    async def me():
        sched.current().cancel()
        await sched.sleep(0.01)
        return "not reached"

    async def main():
        t = sched.spawn(me())
        try:
            await t
        except sched.Cancelled:
            return "ok"

    assert sched.run(main()) == "ok"


def test_cancel_propagates_through_join():
    state = []

    async def child(n):
        try:
            await sched.sleep(10)
        except sched.Cancelled:
            state.append(n)
            raise

    async def parent():
        await sched.join([child(1), child(2)])

    async def main():
        t = sched.spawn(parent())
        await sched.sleep(0.01)
        t.cancel()
        try:
            await t
        except sched.Cancelled:
            pass

    sched.run(main())
    assert sorted(state) == [1, 2]


def test_with_timeout_expires_and_cancels():
    state = []

    async def slow():
        try:
            await sched.sleep(5)
        except sched.Cancelled:
            state.append("inner cancelled")
            raise

    async def main():
        t0 = sched.now()
        try:
            await sched.with_timeout(0.02, slow())
        except sched.Timeout:
            return sched.now() - t0

    dt = sched.run(main())
    assert 0.02 <= dt < 1.0, dt
    assert state == ["inner cancelled"]


def test_with_timeout_in_time_returns_value():
    async def quick():
        await sched.sleep(0.01)
        return "v"

    async def main():
        v = await sched.with_timeout(1.0, quick())
        # the abandoned 1 s timer must not stretch the run
        return v

    t0 = sched.now()
    assert sched.run(main()) == "v"
    assert sched.now() - t0 < 0.5


def test_with_timeout_passes_exception():
    async def bad():
        raise Boom("inner")

    async def main():
        try:
            await sched.with_timeout(1.0, bad())
        except Boom as e:
            return e.args[0]

    assert sched.run(main()) == "inner"


def test_queue_fifo_bounded_and_blocking_get():
    q = sched.Queue(2)
    got = []

    async def consumer():
        for _ in range(3):
            got.append(await q.get())

    async def main():
        t = sched.spawn(consumer())
        await sched.sleep(0.01)
        assert q.put_nowait("a") is True
        assert q.put_nowait("b") is True
        assert q.put_nowait("c") is False      # full: dropped and counted
        assert q.dropped == 1
        await sched.sleep(0.01)
        q.put_nowait("d")
        await t

    sched.run(main())
    assert got == ["a", "b", "d"], got
    _raises(ValueError, sched.Queue, 0)
    _raises(IndexError, sched.Queue(1).get_nowait)


def test_queue_cancelled_getter_passes_item_on():
    q = sched.Queue(4)
    got = []

    async def getter(n):
        got.append((n, await q.get()))

    async def main():
        a = sched.spawn(getter("a"))
        b = sched.spawn(getter("b"))
        await sched.sleep(0.01)
        q.put_nowait(1)       # wakes a ...
        a.cancel()            # ... which is cancelled before it runs
        await sched.sleep(0.01)
        return b.done()

    assert sched.run(main()) is True
    assert got == [("b", 1)], got


def test_deadlock_is_reported():
    async def main():
        await sched.Promise()

    e = _raises(RuntimeError, sched.run, main())
    assert "deadlock" in str(e)


def test_orphan_failure_goes_to_hook():
    seen = []

    async def bad():
        raise Boom("orphan")

    async def main():
        sched.spawn(bad(), name="bad")
        await sched.sleep(0.01)

    sched.set_exception_hook(lambda t, e: seen.append((t.name, e.args[0])))
    try:
        sched.run(main())
    finally:
        sched.set_exception_hook(None)
    assert seen == [("bad", "orphan")]


def test_spawn_rejects_non_coroutine():
    async def main():
        sched.spawn(42)

    e = _raises(TypeError, sched.run, main())
    assert "coroutine" in str(e)


def test_run_not_reentrant():
    async def main():
        async def inner():
            return 1
        c = inner()
        try:
            sched.run(c)
        except RuntimeError:
            c.close()
            return "refused"

    assert sched.run(main()) == "refused"


def test_task_spawned_before_run_starts_with_it():
    log = []

    async def early():
        log.append("early")

    async def main():
        await sched.sleep(0)
        await sched.sleep(0)
        return list(log)

    sched.spawn(early())
    assert sched.run(main()) == ["early"]


def test_state_reset_between_runs():
    async def forever():
        await sched.sleep(100)

    async def main():
        sched.spawn(forever())     # still asleep when main returns: dropped on exit
        await sched.sleep(0)

    sched.run(main())
    t0 = sched.now()
    sched.run(main())
    assert sched.now() - t0 < 1.0
