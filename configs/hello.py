# hello: Mirage's "hello" tutorial unikernel. Five loops run concurrently; instance N logs
# "hello from instance N iteration I", then sleeps N seconds, 1000 times. Their lines
# interleave by their sleeps. SCALE shortens every sleep (tests use SCALE=0.05).
from morgana import sched, logs


def config(c):
    c.option("SCALE", 1.0, "multiplies every sleep")
    c.option("ITERATIONS", 1000, "iterations of each loop")
    c.option("LOOPS", 5, "number of concurrent loops (instance N sleeps N s)")


async def main(env):
    log = logs.Src("application")
    scale = env.get("SCALE")
    iterations = env.get("ITERATIONS")

    async def loop(n):
        for i in range(iterations):
            log.info("hello from instance %d iteration %d", n, i)
            await sched.sleep(n * scale)

    await sched.join([loop(n) for n in range(1, env.get("LOOPS") + 1)])
