# A unikernel that logs faster than xenconsoled drains its console: writes must not wait
# (the tasks keep running), and every byte that cannot be kept is accounted for by a
# "[console: N bytes dropped]" line. The test checks what arrived in order.
from morgana import logs, sched


def config(c):
    c.option("LINES", 5000, "log lines to write")


async def main(env):
    log = logs.Src("flood")
    n = env.get("LINES")
    for i in range(n):
        log.info("flood %06d %s", i, "x" * 40)
        if i % 50 == 0:
            await sched.sleep(0)        # through the scheduler's idle path (console pump)
    log.info("flood: done %d", n)
