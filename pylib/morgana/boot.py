# Runtime side of a generated _boot module: sets the platform, builds the Env that the
# app's main(env) receives, brings devices and declared services up, runs main.
# A normal return ends the unikernel (poweroff on Xen, exit 0 on Unix); an exception
# propagates (the kernel prints it and crashes the domain; on Unix: traceback, exit 1).
from morgana import sched, logs


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
        """MicroPython's REPL on the console (Xen kernel hook; the host REPL on Unix)."""
        try:
            import _xen
        except ImportError:
            _xen = None
        if _xen is not None and hasattr(_xen, "repl"):
            return _xen.repl()
        raise RuntimeError("no REPL hook on this platform: run micropython itself")


async def _start_services(env, services):
    for s in services:
        if s["kind"] == "http":
            from morgana import http
            srv = http.Server(env.kv, log=logs.Src("http").info)
            env.stack.listen(s["port"], srv.handle)
            env.services.append(srv)
            env.log.info("http: serving on port %d", s["port"])
        else:
            raise ValueError("unknown service kind %r" % (s["kind"],))


async def _run(app, env, devices, services):
    await devices(env)
    await _start_services(env, services)
    main = getattr(app, "main", None)
    result = None
    if main is not None:
        result = await main(env)
    if services:
        await sched.Promise()      # services run until the unikernel is stopped
    return result


def start(platform, app, name, target, options, devices, services=()):
    sched.set_platform(platform)
    logs.set_levels(options.get("LOG", "info"))
    env = Env(name, target, options)
    return sched.run(_run(app, env, devices, list(services)))
