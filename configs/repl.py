# repl: MicroPython's interactive prompt on the console of a Xen domain
# (the kernel's _xen.repl() hook). Nothing else: a 250 KiB Python machine.


def config(c):
    pass


async def main(env):
    env.repl()
