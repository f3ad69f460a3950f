# The scheduler on the Xen platform (plat_xen over tests/unit/fake_xen.py, virtual time):
# sleeping blocks the domain once per deadline, event-channel ports wake their waiters.
import fake_xen
from morgana import sched, plat_xen


def _with_xen(coro):
    fake_xen.reset()
    sched.set_platform(plat_xen)
    try:
        return sched.run(coro)
    finally:
        sched.set_platform(None)


def _count_blocks():
    calls = []
    real = fake_xen.block

    def block(deadline_ns):
        calls.append(deadline_ns)
        real(deadline_ns)

    fake_xen.block = block
    return calls, real


def test_sleep_blocks_once_per_deadline():
    calls, real = _count_blocks()

    async def main():
        t0 = sched.now()
        await sched.sleep(5)
        await sched.sleep(2.5)
        return sched.now() - t0

    try:
        dt = _with_xen(main())
    finally:
        fake_xen.block = real
    assert dt == 7.5, dt
    assert len(calls) == 2, calls          # no busy waiting: one block per sleep


def test_event_wakes_waiter():
    got = []

    async def backend(port):
        await sched.sleep(1)
        fake_xen.raise_event(port)

    async def main():
        port = fake_xen.evtchn_alloc_unbound(0)
        sched.spawn(backend(port))
        t0 = sched.now()
        await sched.event(port)
        got.append(sched.now() - t0)

    _with_xen(main())
    assert got == [1.0], got


def test_event_fired_while_busy_is_latched():
    async def main():
        port = fake_xen.evtchn_alloc_unbound(0)
        fake_xen.raise_event(port)       # fires before anyone waits
        await sched.sleep(1)             # the loop sees it during this wait
        t0 = sched.now()
        await sched.event(port)          # must not block: it already fired
        return sched.now() - t0

    assert _with_xen(main()) == 0.0


def test_console_and_exit_codes():
    fake_xen.reset()
    plat_xen.write_console(b"hi\n")
    plat_xen.exit(0)
    plat_xen.exit(2)
    assert fake_xen._console == [b"hi\n"]
    assert fake_xen.shutdowns == [0, 3]


def test_no_fds_on_xen():
    try:
        plat_xen.wait(None, [3], [])
    except ValueError as e:
        assert "file descriptors" in str(e)
    else:
        raise AssertionError("fds accepted on xen")


def test_wall_clock_from_xen():
    fake_xen.reset()
    assert plat_xen.wall_ns() == fake_xen.wall_ns()
    assert plat_xen.now_ns() == fake_xen.time_ns()
