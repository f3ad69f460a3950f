# A unikernel whose app fails: the kernel must print the traceback on the console and
# end the domain as crashed (not powered off).
from morgana import logs


def config(c):
    pass


def check(n):
    if n > 2:
        raise ValueError("boom from the unikernel at depth %d" % n)
    check(n + 1)


async def main(env):
    logs.Src("crash").info("about to fail")
    check(0)
