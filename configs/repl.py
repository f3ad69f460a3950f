# repl: an interactive Python prompt and nothing else. On Xen it is MicroPython's own REPL
# on the domain console (the kernel's _xen.repl() hook: a 250 KiB Python machine); on the
# unix targets a line REPL on the terminal. `env` is there to poke at.


def config(c):
    pass


async def main(env):
    env.repl()
