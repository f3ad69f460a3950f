# morgana.net: the TCP/IP stack, one module per protocol (see docs/design.md).


class Drop(Exception):
    """A malformed or unwanted input: Drop("ipv4_bad_csum"). `reason` names the counter
    the stack bumps in `stack.stats`."""

    @property
    def reason(self):
        return self.args[0]


# The unikernel's network stack, for code that is not handed one (asyncio's
# start_server/open_connection): the boot module registers env.stack here.
_default = None


def set_default(stack):
    global _default
    _default = stack


def default():
    """The stack registered by the boot module, or None (no c.network() in the config)."""
    return _default


# ---- stats and memory, the same on both stacks (stack.memory(), stack.log_stats) ----------

def heap_into(m, collect=False):
    """Add MicroPython's heap (heap_used, heap_free) to the dict m, after a garbage
    collection if collect; CPython has no such numbers and adds nothing."""
    try:
        import gc
        if collect:
            gc.mem_alloc()  # AttributeError on CPython before a pointless full collection
            gc.collect()
        m["heap_used"] = gc.mem_alloc()
        m["heap_free"] = gc.mem_free()
    except (ImportError, AttributeError):
        pass


def stats_line(stats, mem, last):
    """One log line: the memory summary, then the counters that changed since `last`
    (a dict this updates) as name=total(+change)."""
    parts = ["%s=%s" % (k, mem[k]) for k in sorted(mem)]
    moved = []
    for k in sorted(stats):
        v = stats[k]
        if isinstance(v, int) and v != last.get(k, 0):
            moved.append("%s=%d(+%d)" % (k, v, v - last.get(k, 0)))
            last[k] = v
    return "mem " + " ".join(parts) + " | " + (" ".join(moved) if moved else "no change")


async def log_stats(stack, every, log):
    """Log stack.memory() and the counters of stack.stats that moved, every `every`
    seconds, forever; on MicroPython after a garbage collection (heap_used: live heap)."""
    from morgana import sched
    last = {}
    while True:
        await sched.sleep(every)
        heap_into({}, True)
        log.info("%s", stats_line(stack.stats, stack.memory(), last))
