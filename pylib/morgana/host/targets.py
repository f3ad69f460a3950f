# The targets a unikernel can be configured for (host side). A target fixes only the
# platform module and which device implementations back the declared devices.


class Target:
    def __init__(self, name, kind, arch, platform, nets, help, never=()):
        self.name = name
        self.kind = kind            # "unix" (a host process) or "xen" (a PV domain)
        self.arch = arch            # kernel ARCH for xen targets
        self.platform = platform    # runtime module providing the scheduler's platform
        self.nets = nets            # network stacks available, the first is the default
        self.help = help
        # modules only reachable through code paths this target never takes (the
        # scheduler's fallback platform, host-only devices): kept out of its image
        self.never = never

    @property
    def is_xen(self):
        return self.kind == "xen"

    @property
    def is_unix(self):
        return self.kind == "unix"


XEN_NEVER = ("morgana.plat_unix", "morgana.net.socket_stack", "morgana.net.tap",
             "morgana.store.blk_file")

TARGETS = {}
for _t in (
        Target("unix-socket", "unix", None, "morgana.plat_unix", ("socket",),
               "host process, network through the host's sockets"),
        Target("unix-tap", "unix", None, "morgana.plat_unix", ("direct", "socket"),
               "host process, our TCP/IP stack on a Linux TAP device"),
        Target("xen-x86_64", "xen", "x86_64", "morgana.plat_xen", ("direct",),
               "Xen PV domain on x86_64", XEN_NEVER),
        Target("xen-arm32", "xen", "arm32", "morgana.plat_xen", ("direct",),
               "Xen domain on 32-bit ARM (Cortex-A7/A15)", XEN_NEVER)):
    TARGETS[_t.name] = _t


def get(name):
    t = TARGETS.get(name)
    if t is None:
        from morgana.host.config import ConfigError
        raise ConfigError("--target: unknown target %r (choose from %s)"
                          % (name, ", ".join(sorted(TARGETS))))
    return t
