# 100,000 concurrent sleeping tasks on morgana.sched: time to spawn them and get them all
# asleep, memory per sleeping task, CPU used while they all sleep (the loop must block),
# time to wake and finish them all; CPython and the MicroPython Unix port side by side.
#   .cache/venv/bin/python bench/sched_bench.py [N]
# (runs itself under build/unix/micropython for the second column)
import gc
import os
import sys
import time



def _cpu_s():
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0


def _mem():
    gc.collect()
    if hasattr(gc, "mem_alloc"):
        return gc.mem_alloc()
    import tracemalloc
    return tracemalloc.get_traced_memory()[0]


def child(n):
    from morgana import sched
    if not hasattr(gc, "mem_alloc"):
        import tracemalloc
        tracemalloc.start()
    out = {}

    gate = sched.Promise()
    base = [0.0]

    async def sleeper(i):
        await gate
        # all deadlines fall in one second starting `base` s after the gate opens
        await sched.sleep(base[0] + (i % 1000) / 1000.0)

    async def main():
        m0 = _mem()
        t0 = time.time()
        tasks = [sched.spawn(sleeper(i)) for i in range(n)]
        await sched.sleep(0)          # every task has run to the gate
        t1 = time.time()
        out["spawn_s"] = t1 - t0
        base[0] = 1.0 + 2 * out["spawn_s"]   # generous: putting them to sleep costs too
        gate.wakeup()
        await sched.sleep(0)          # every task is now asleep in the timer heap
        t2 = time.time()
        out["to_sleep_s"] = t2 - t1
        out["bytes_per_task"] = (_mem() - m0) / n
        c0 = _cpu_s()
        w0 = time.time()
        await sched.sleep(max(0.05, base[0] - (time.time() - t2) - 0.05))
        out["idle_wall_s"] = time.time() - w0
        out["idle_cpu_s"] = _cpu_s() - c0   # nothing is due yet: the loop must block
        t3 = time.time()
        await sched.join(tasks)
        out["wake_all_s"] = time.time() - t3
        out["total_s"] = time.time() - t0

    sched.run(main())
    print("RESULT " + " ".join("%s=%r" % (k, out[k]) for k in sorted(out)))


def _parse(text):
    for line in text.splitlines():
        if line.startswith("RESULT "):
            return dict((kv.split("=")[0], float(kv.split("=")[1]))
                        for kv in line[7:].split())
    raise RuntimeError("no RESULT line in:\n" + text)


def main(n):
    import subprocess
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    pylib = os.path.join(top, "pylib")
    cols = []
    env = dict(os.environ, PYTHONPATH=pylib)
    r = subprocess.run([sys.executable, __file__, "--child", str(n)], env=env,
                       capture_output=True, text=True)
    cols.append(("CPython %d.%d" % sys.version_info[:2], _parse(r.stdout + r.stderr)))
    mp = os.path.join(top, "build", "unix", "micropython")
    if os.path.isfile(mp):
        env = dict(os.environ, MICROPYPATH=pylib)
        r = subprocess.run([mp, "-X", "heapsize=512M", __file__, "--child", str(n)],
                           env=env, capture_output=True, text=True)
        cols.append(("MicroPython", _parse(r.stdout + r.stderr)))
    rows = [("spawn, run to first await (s)", "spawn_s", "%.3f"),
            ("put all to sleep (s)", "to_sleep_s", "%.3f"),
            ("bytes per sleeping task", "bytes_per_task", "%.0f"),
            ("idle: wall (s)", "idle_wall_s", "%.2f"),
            ("idle: CPU used (s)", "idle_cpu_s", "%.2f"),
            ("wake + finish all, 1 s spread (s)", "wake_all_s", "%.3f"),
            ("total (s)", "total_s", "%.3f")]
    print("%d concurrent sleeping tasks (morgana.sched)" % n)
    print("%-34s" % "" + "".join("%16s" % c[0] for c in cols))
    for label, key, fmt in rows:
        print("%-34s" % label + "".join("%16s" % (fmt % c[1][key]) for c in cols))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(int(sys.argv[2]))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 100000)
