# Runtime side of a generated _boot module: sets the platform, builds the Env that the
# app's main(env) receives, runs the generated devices/services set-up, then main.
# A normal return ends the unikernel (poweroff on Xen, exit 0 on Unix); an exception
# propagates (the kernel prints it and crashes the domain; on Unix: traceback, exit 1).
# A shutdown request (morgana.lifecycle: `xl shutdown`/`xl reboot` through the platform's
# control task, or the app) ends the run once the shutdown hooks are done; a reboot is
# handed to the platform's reboot() (SCHEDOP_shutdown reason reboot on Xen).
from morgana import sched, logs, lifecycle


class Env:
    """What main(env) sees: options and devices of this unikernel."""

    def __init__(self, name, target, options):
        self.name = name
        self.target = target
        self.options = options
        self.log = logs.Src(name)
        self.stack = None
        self.kv = None
        self.block = None
        self.blocks = {}
        self.storage = {}           # c.storage volumes: name -> littlefs (morgana.store.lfs)
        self.stores = {}            # the same volumes' kv faces (morgana.store.kv_lfs)
        self.services = []

    def get(self, key):
        """Value of option KEY (typed as declared)."""
        if key not in self.options:
            raise KeyError("no option %r in this unikernel (have: %s)"
                           % (key, ", ".join(sorted(self.options))))
        return self.options[key]

    def opt(self, key):
        return self.get(key)

    def repl(self):
        """MicroPython's REPL on the console (Xen kernel hook; a line REPL on Unix)."""
        try:
            import _xen
        except ImportError:
            _xen = None
        if _xen is not None and hasattr(_xen, "repl"):
            return _xen.repl()
        return line_repl({"env": self})


def line_repl(g, stdin=None, stdout=None):
    """A plain read-eval-print loop on stdin/stdout (Unix targets, where the kernel's
    hook does not exist). Blocks the scheduler: nothing else runs in a REPL unikernel."""
    import sys
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    g.setdefault("__name__", "__repl__")
    while True:
        stdout.write(">>> ")
        line = stdin.readline()
        if not line:
            stdout.write("\n")
            return
        line = line.rstrip("\n")
        if not line.strip():
            continue
        try:
            try:
                code = compile(line, "<repl>", "eval")
            except SyntaxError:
                exec(compile(line, "<repl>", "exec"), g)
            else:
                v = eval(code, g)
                if v is not None:
                    stdout.write(repr(v) + "\n")
        except Exception as e:
            stdout.write("%s: %s\n" % (type(e).__name__, e))


async def _body(app, env, devices, services):
    await devices(env)
    if env.stack is not None:
        from morgana import net
        net.set_default(env.stack)
        flush = getattr(env.stack, "flush", None)
        if flush is not None:        # last: what the hooks sent reaches its peers
            lifecycle.on_shutdown(flush, last=True, name="tcp flush")
    if services is not None:
        await services(env)
    main = getattr(app, "main", None)
    result = None
    if main is not None:
        result = await main(env)
    if services is not None:
        await sched.Promise()      # services run until the unikernel is stopped
    return result


async def _run(platform, app, env, devices, services):
    control = getattr(platform, "control", None)
    if control is not None:          # Xen: watch control/shutdown from the start
        sched.spawn(control(), "control")
    body = sched.spawn(_body(app, env, devices, services), "boot")
    stop = sched.spawn(_stopped(), "boot-stop")
    # whichever ends first: the app (its result) or a shutdown (the other is cancelled)
    r = await sched.choose([body, stop])
    if lifecycle.finished().done():
        return None
    return r


async def _stopped():
    await lifecycle.finished()


def _seed_entropy():
    # before any device: the stack keys its sequence numbers from the pool
    from morgana import entropy
    log = logs.Src("entropy")
    if entropy.init():
        log.debug("pool from %s", entropy.describe())
    else:
        log.warning("pool from %s: TCP sequence numbers are guessable by whoever knows "
                    "the boot time, and TLS will refuse to start; boot with "
                    "entropy=<64 hex digits> (xl create NAME.xl 'extra=\"entropy=...\"')",
                    entropy.describe())
    if entropy._xen is not None:
        # MicroPython's `random` is seeded from the clock in the kernel; not a CSPRNG either
        # way, but no longer predictable from the boot time
        try:
            import random
            random.seed(entropy.randbits(30))
        except (ImportError, AttributeError):
            pass


def start(platform, app, name, target, options, devices, services=None):
    """devices(env) and services(env) are the generated coroutines of _boot."""
    sched.set_platform(platform)
    logs.set_levels(options.get("LOG", "info"))
    lifecycle.set_grace(options.get("SHUTDOWN_GRACE", lifecycle.DEFAULT_GRACE))
    _seed_entropy()
    env = Env(name, target, options)
    result = sched.run(_run(platform, app, env, devices, services))
    if lifecycle.reason() == lifecycle.REBOOT:
        reboot = getattr(platform, "reboot", None)
        if reboot is not None:
            reboot()
    return result
