# configs/hello.py's main on the scheduler in virtual time (plat_xen over fake_xen), with
# every wake-up made late by a varying lag: the 5 x 1000 lines still come out in Lwt's
# order (logical time, then registration order), stamped at their due seconds.
import fake_xen
from morgana import sched, logs, plat_xen, boot


def _load_hello():
    ns = {"__name__": "hello_app"}
    with open("configs/hello.py") as f:
        exec(f.read(), ns)
    return ns["main"]


def _model(loops, iterations):
    from heapq import heappush, heappop
    heap = []
    seq = 0
    for n in range(1, loops + 1):
        heappush(heap, (0, seq, n, 0))
        seq += 1
    while heap:
        t, _, n, i = heappop(heap)
        yield t, n, i
        if i + 1 < iterations:
            seq += 1
            heappush(heap, (t + n, seq, n, i + 1))


def _run_hello(iterations, lag_ns, check):
    main = _load_hello()
    fake_xen.reset()
    real_block = fake_xen.block
    k = [0]

    def late_block(deadline_ns):
        real_block(deadline_ns)
        k[0] += 1
        fake_xen.advance(lag_ns[k[0] % len(lag_ns)])   # the vCPU ran late

    fake_xen.block = late_block
    logs.set_reporter(check)
    sched.set_platform(plat_xen)
    try:
        env = boot.Env("hello", "xen-x86_64", {"SCALE": 1.0, "ITERATIONS": iterations,
                                               "LOOPS": 5})
        t0 = fake_xen.wall_ns()
        sched.run(main(env))
    finally:
        fake_xen.block = real_block
        logs.set_reporter(None)
        sched.set_platform(None)
    return t0


def test_hello_order_and_times_despite_late_wakeups():
    iterations = 1000
    model = _model(5, iterations)
    state = {"n": 0, "bad": None, "last": None}

    def check(line):
        # compared as they come: 5000 lines don't fit MicroPython's default heap
        t, n, i = next(model)
        want = "[INFO] [application] hello from instance %d iteration %d\n" % (n, i)
        if state["bad"] is None and not line.decode().endswith(want):
            state["bad"] = (state["n"], line, want)
        state["n"] += 1
        state["last"] = line

    t0 = _run_hello(iterations, [300000, 0, 4000000, 120000, 9000], check)
    assert state["bad"] is None, state["bad"]
    assert state["n"] == 5 * iterations
    # the last line: instance 5, iteration 999, due at 4995 s (lags don't accumulate)
    last = state["last"].decode()
    assert last.startswith(logs.timestamp(t0 + 4995 * 10**9)[:19]), (last, t0)
