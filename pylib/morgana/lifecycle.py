# Orderly shutdown and reboot. Apps (and servers) register async hooks; a request (the
# toolstack's `xl shutdown` / `xl reboot`, seen by morgana.xen.control, or the app itself)
# runs every hook at once, bounded by a grace time, then ends the unikernel's run with
# the reason: boot.start turns it into the domain's SCHEDOP_shutdown reason on Xen.
#
#     from morgana import lifecycle
#
#     @lifecycle.on_shutdown
#     async def bye(reason):          # "poweroff" or "reboot"
#         await flush_my_state()
#
# Hooks registered with last=True (the network stack's "every byte acknowledged") run
# after the others have finished, in what is left of the grace time. A hook still running
# when the grace time is up is cancelled; a hook that fails is reported and the others go on.
from morgana import sched, logs

POWEROFF = "poweroff"
REBOOT = "reboot"
REASONS = (POWEROFF, REBOOT)
DEFAULT_GRACE = 5.0

log = logs.Src("shutdown")

_hooks = []                 # [fn, last, name]
_st = {"reason": None, "grace": DEFAULT_GRACE, "done": None, "task": None, "took": None}


def on_shutdown(fn=None, last=False, name=None):
    """Register `async def fn(reason)` (decorator, or a call). Returns fn. name: what
    the log calls it (default: the function's name)."""
    if fn is None:
        return lambda f: on_shutdown(f, last, name)
    for h in _hooks:
        if h[0] == fn:
            return fn
    _hooks.append([fn, last, name or getattr(fn, "__name__", None) or repr(fn)])
    return fn


def remove(fn):
    """Unregister fn (no error if it was not registered)."""
    for i in range(len(_hooks)):
        if _hooks[i][0] == fn:
            _hooks.pop(i)
            return


def hooks():
    return [h[0] for h in _hooks]


def set_grace(seconds):
    """Default grace time of later requests (boot sets it from SHUTDOWN_GRACE)."""
    seconds = float(seconds)
    if not seconds >= 0:
        raise ValueError("shutdown grace %r: not a number of seconds >= 0" % (seconds,))
    _st["grace"] = seconds


def grace():
    return _st["grace"]


def reason():
    """None while running; "poweroff" or "reboot" once a shutdown was requested."""
    return _st["reason"]


def stopping():
    return _st["reason"] is not None


def finished():
    """A Promise woken with the reason once the hooks are done (or the grace is up)."""
    if _st["done"] is None:
        _st["done"] = sched.Promise()
    return _st["done"]


def request(why, grace=None):
    """Start shutting down for `why` (POWEROFF or REBOOT): the hooks run in a task of
    their own. True if this request started it; False if a shutdown is already under way
    (the first reason stands)."""
    if why not in REASONS:
        raise ValueError("shutdown reason %r: not one of %s" % (why, ", ".join(REASONS)))
    if _st["reason"] is not None:
        return False
    _st["reason"] = why
    g = _st["grace"] if grace is None else float(grace)
    finished()
    _st["task"] = sched.spawn(_run(why, g), "shutdown")
    return True


async def _call(fn, why):
    try:
        r = fn(why)
        if r is not None and hasattr(r, "send"):
            await r
    except sched.Cancelled:
        raise
    except Exception as e:
        log.warning("hook %s failed: %s: %s", _name(fn), type(e).__name__, e)


def _name(fn):
    for h in _hooks:
        if h[0] == fn:
            return h[2]
    return repr(fn)


async def _phase(fns, why, deadline):
    """Run fns concurrently until they finish or deadline; names of those cut short."""
    tasks = [(fn, sched.spawn(_call(fn, why), "shutdown-hook")) for fn in fns]
    late = []
    for fn, t in tasks:
        if t.done():
            continue
        left = deadline - sched.now()
        if left > 0:
            try:
                await sched.with_timeout(left, t)
                continue
            except sched.Timeout:
                pass
        t.cancel()
        late.append(_name(fn))
    return late


async def _run(why, g):
    t0 = sched.now()
    deadline = t0 + g
    first = [h[0] for h in _hooks if not h[1]]
    last = [h[0] for h in _hooks if h[1]]
    log.info("%s: %d hooks, grace %.1f s", why, len(first) + len(last), g)
    late = await _phase(first, why, deadline)
    late += await _phase(last, why, deadline)
    took = sched.now() - t0
    _st["took"] = took
    if late:
        log.warning("%s after the %.1f s grace time; cut short: %s", why, g, ", ".join(late))
    else:
        log.info("%s: hooks done in %.2f s", why, took)
    _st["done"].wakeup(why)


def reset():
    """Forget hooks and any request (tests; a fresh run)."""
    del _hooks[:]
    _st["reason"] = None
    _st["done"] = None
    _st["task"] = None
    _st["took"] = None
    _st["grace"] = DEFAULT_GRACE
