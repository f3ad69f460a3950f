# Config as code (host side, never frozen): configs/NAME.py defines
#     def config(c): ...          declarations, run by `morgana configure` on the host
#     async def main(env): ...    the application, run inside the unikernel
# `c` is a Builder: typed options (KEY=VALUE on the command line) and devices. Its
# result is a plain dict (build/NAME/config.json) from which the boot module is made.
import os

from morgana.host import targets

NAME_OK = "abcdefghijklmnopqrstuvwxyz0123456789_-"
BOOL_WORDS = {"1": True, "yes": True, "true": True, "on": True,
              "0": False, "no": False, "false": False, "off": False}


class ConfigError(Exception):
    """A bad config file, option or target: the message names the culprit."""


def _kind(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    return "str"


def parse_value(name, kind, raw, choices=None):
    """Typed value of option `name` from its command-line text; ConfigError if bad."""
    if not isinstance(raw, str):
        v = raw
    elif kind == "bool":
        v = BOOL_WORDS.get(raw.lower())
        if v is None:
            raise ConfigError("option %s: %r is not a yes/no value" % (name, raw))
    elif kind == "int":
        try:
            v = int(raw, 0)
        except ValueError:
            raise ConfigError("option %s: %r is not an integer" % (name, raw))
    elif kind == "float":
        try:
            v = float(raw)
        except ValueError:
            raise ConfigError("option %s: %r is not a number" % (name, raw))
    else:
        v = raw
    if choices is not None and v not in choices:
        raise ConfigError("option %s: %r is not one of %s"
                          % (name, raw, "|".join(str(c) for c in choices)))
    return v


def _check_ipv4(name, v, allow_empty=False):
    if allow_empty and v == "":
        return
    parts = v.split(".")
    if len(parts) != 4 or not all(p.isdigit() and int(p) < 256 for p in parts):
        raise ConfigError("option %s: %r is not a dotted IPv4 address" % (name, v))


class Builder:
    """The `c` handed to config(c)."""

    def __init__(self, name, target, raw, root):
        self.name = name
        self.t = targets.get(target)
        self.target = self.t.name
        self.is_xen = self.t.is_xen
        self.is_unix = self.t.is_unix
        self.root = root
        self._raw = dict(raw)
        self._used = set()
        self.specs = {}            # name -> (kind, default, help, choices)
        self.values = {}
        self.network_dev = None
        self.kv_dev = None
        self.blocks = []
        self.storages = []
        self.services = []
        self.extra_modules = []
        self.generated = []
        self.packages = []         # requirement strings of c.package(...), in order
        self.repl_wanted = False
        self.option("MEM", 32, "memory in MiB (Xen domain size; MicroPython heap on unix)")
        self.option("LOG", "info", "log levels: LEVEL[,SOURCE:LEVEL...]")
        self.option("SHUTDOWN_GRACE", 5.0, "seconds a shutdown/reboot gives the app's hooks and "
                    "requests under way before the domain stops")

    # ---------------------------------------------------------------- options
    def option(self, name, default, help="", choices=None):
        """Declare option NAME (type from default) and return its value."""
        if not isinstance(name, str) or not name or name.upper() != name \
                or not name.replace("_", "").isalnum():
            raise ConfigError("option name %r: use UPPER_CASE letters, digits and _"
                              % (name,))
        kind = _kind(default)
        if name in self.specs:
            if self.specs[name][1] != default:
                raise ConfigError("option %s declared twice with different defaults"
                                  % name)
            return self.values[name]
        if choices is not None:
            choices = tuple(choices)
            if default not in choices:
                raise ConfigError("option %s: default %r is not one of its choices"
                                  % (name, default))
        self.specs[name] = (kind, default, help, choices)
        if name in self._raw:
            self._used.add(name)
            v = parse_value(name, kind, self._raw[name], choices)
        else:
            v = default
        self.values[name] = v
        return v

    opt = option

    def get(self, name):
        if name not in self.values:
            raise ConfigError("get(%r): no such option (declare it with c.option first)"
                              % (name,))
        return self.values[name]

    # ---------------------------------------------------------------- devices
    def console(self):
        return "console"          # every unikernel has the platform console

    def network(self, stack=None, dhcp=None, ip=None, netmask="255.255.255.0",
                gateway=""):
        """A network stack; options NET, DHCP, IP, NETMASK, GATEWAY (and TAP), STATS."""
        t = self.t
        stats = self.option("STATS", 0, "log the stack's counters and memory every N "
                            "seconds (0: off)")
        if stats < 0:
            raise ConfigError("option STATS: %d is negative (seconds, 0 for off)" % stats)
        net = self.option("NET", stack or t.nets[0], "network stack: socket|direct",
                          ("socket", "direct"))
        if net not in t.nets:
            if net == "socket":
                why = "host sockets exist only on unix targets"
            else:
                why = "the direct stack needs a TAP device: use --target unix-tap"
            raise ConfigError("option NET: %r is not available on target %s (%s)"
                              % (net, t.name, why))
        if net == "socket":
            ip = self.option("IP", ip or "0.0.0.0", "host address to bind")
            _check_ipv4("IP", ip)
            self.network_dev = {"stack": "socket", "ip": ip}
            return self.network_dev
        d = self.option("DHCP", bool(t.is_xen if dhcp is None else dhcp),
                        "get the address by DHCP (yes|no)")
        ip = self.option("IP", ip or "10.0.0.2", "static address (DHCP=no)")
        mask = self.option("NETMASK", netmask, "static netmask")
        gw = self.option("GATEWAY", gateway, "static default gateway ('' for none)")
        _check_ipv4("IP", ip)
        _check_ipv4("NETMASK", mask)
        _check_ipv4("GATEWAY", gw, allow_empty=True)
        dev = {"stack": "direct", "dhcp": d, "ip": ip, "netmask": mask, "gateway": gw}
        if t.name == "unix-tap":
            dev["tap"] = self.option("TAP", "tap0", "Linux TAP interface")
        else:
            dev["bridge"] = self.option("BRIDGE", "xenbr0", "dom0 bridge of the vif")
        self.network_dev = dev
        return dev

    def kv(self, root="htdocs", fs=None):
        """Read-only key-value store of the files under root (crunch or fat, option FS)."""
        fs = self.option("FS", fs or "crunch", "key-value store: crunch|fat",
                         ("crunch", "fat"))
        path = os.path.join(self.root, root)
        if not os.path.isdir(path):
            raise ConfigError("kv: root %r is not a directory (looked in %s)"
                              % (root, path))
        self.kv_dev = {"fs": fs, "root": path}
        return self.kv_dev

    def block(self, image, read_only=True, name=None):
        """A block device backed by the host file `image` (a vbd on Xen)."""
        path = image if os.path.isabs(image) else os.path.join(self.root, image)
        dev = {"name": name or "disk%d" % len(self.blocks), "image": path,
               "read_only": bool(read_only)}
        self.blocks.append(dev)
        return dev

    def storage(self, name="data", size_mib=16, block_size=4096):
        """A read-write littlefs volume NAME: the image build/NAME/<name>.img (made and
        formatted by `morgana build` if missing, never reformatted), a rw vbd on Xen,
        the file itself on unix. The app gets env.storage[name] (fs), env.stores[name] (kv)."""
        if not isinstance(name, str) or not name or any(ch not in NAME_OK for ch in name):
            raise ConfigError("storage: name %r must be lower-case letters, digits, - or _"
                              % (name,))
        if name == "kv" or any(s["name"] == name for s in self.storages) \
                or any(b["name"] == name for b in self.blocks):
            raise ConfigError("storage %r: that disk name is taken" % (name,))
        if not isinstance(size_mib, int) or not 1 <= size_mib <= 65536:
            raise ConfigError("storage %r: size_mib %r is not in 1..65536" % (name, size_mib))
        if block_size not in (512, 1024, 2048, 4096, 8192, 16384, 32768, 65536):
            raise ConfigError("storage %r: block_size %r is not a power of two in 512..65536"
                              % (name, block_size))
        dev = {"name": name, "size_mib": size_mib, "block_size": block_size,
               "image": name + ".img"}     # relative to the build directory
        self.storages.append(dev)
        return dev

    def http(self, port=80):
        """Serve the kv store over HTTP on port (needs network and kv)."""
        return self._service("http", port)

    def _service(self, kind, port):
        if not isinstance(port, int) or not 0 < port < 65536:
            raise ConfigError("%s service: port %r is not in 1..65535" % (kind, port))
        s = {"kind": kind, "port": port}
        self.services.append(s)
        return s

    def modules(self, *names):
        """Runtime modules to include in the image beyond those found by import scan."""
        for n in names:
            if n not in self.extra_modules:
                self.extra_modules.append(n)

    def package(self, spec):
        """A pure-Python distribution from PyPI in the image: spec is a requirement
        ('microdot==2.*'). `morgana configure` resolves it (cache first, then pip),
        its modules are frozen like ours; dependencies are not followed."""
        from morgana.host import packages
        req = packages.parse_spec(spec)
        for other in self.packages:
            if packages.same_name(packages.parse_spec(other).name, req.name):
                raise ConfigError("package %s declared twice (also %s)" % (spec, other))
        self.packages.append(spec)
        return spec

    def generate(self, modname, argv):
        """Build step: `python -m argv[0] argv[1:] build/NAME/modname.py` makes a module."""
        if not modname.replace("_", "").isalnum():
            raise ConfigError("generate: bad module name %r" % (modname,))
        if not argv:
            raise ConfigError("generate(%r): empty command" % (modname,))
        self.generated.append([modname, [str(a) for a in argv]])

    def repl(self):
        """The unikernel is MicroPython's REPL on the console (env.repl())."""
        self.repl_wanted = True

    # ---------------------------------------------------------------- result
    def resolved(self, config_file, has_main):
        unknown = sorted(k for k in self._raw if k not in self._used)
        if unknown:
            raise ConfigError("unknown option%s %s for %s (known: %s)" % (
                "s" if len(unknown) > 1 else "", ", ".join(unknown), self.name,
                ", ".join(sorted(self.specs))))
        for s in self.services:
            if s["kind"] == "http" and (self.kv_dev is None or self.network_dev is None):
                raise ConfigError("http service on port %d needs c.kv() and c.network()"
                                  % s["port"])
        if self.values["MEM"] < 4:
            raise ConfigError("option MEM: %d MiB is too small (at least 4)"
                              % self.values["MEM"])
        from morgana import logs
        try:
            for part in self.values["LOG"].split(","):
                logs.level_of(part.split(":")[-1].strip())
        except ValueError as e:
            raise ConfigError("option LOG: %s" % e)
        if not has_main and not self.services and not self.repl_wanted:
            raise ConfigError("%s: no `async def main(env)` and no service to run"
                              % config_file)
        return {
            "name": self.name, "target": self.target, "config_file": config_file,
            "root": self.root, "options": self.values,
            "option_specs": dict((k, [v[0], v[1], v[2], v[3] and list(v[3])])
                                 for k, v in self.specs.items()),
            "network": self.network_dev, "kv": self.kv_dev, "blocks": self.blocks,
            "storage": self.storages, "services": self.services, "modules": self.extra_modules,
            "generate": self.generated, "memory": self.values["MEM"],
            "packages": self.packages,
            "has_main": has_main, "repl": self.repl_wanted,
        }


def parse_assignments(args):
    """{'PORT': '8080'} from ['PORT=8080']; ConfigError naming a malformed one."""
    out = {}
    for a in args:
        if "=" not in a:
            raise ConfigError("%r: options are written KEY=VALUE" % (a,))
        k, v = a.split("=", 1)
        if not k or k.upper() != k:
            raise ConfigError("%r: option names are UPPER_CASE" % (a,))
        out[k] = v
    return out


def load(config_file, target, raw=None, root=None):
    """Evaluate config_file's config(c) for target with raw KEY=VALUE strings."""
    path = os.path.abspath(config_file)
    if not os.path.isfile(path):
        raise ConfigError("config file %s not found" % config_file)
    name = os.path.basename(path)
    if not name.endswith(".py"):
        raise ConfigError("config file %s: expected a .py file" % config_file)
    name = name[:-3]
    if not name or any(ch not in NAME_OK for ch in name):
        raise ConfigError("config file %s: name %r must be lower-case letters, digits, "
                          "- or _" % (config_file, name))
    if root is None:
        # the project is the directory holding configs/ (htdocs/ and zones beside it)
        root = os.path.dirname(os.path.dirname(path))
    ns = {"__name__": "app", "__file__": path}
    with open(path) as f:
        src = f.read()
    try:
        code = compile(src, path, "exec")
    except SyntaxError as e:
        raise ConfigError("%s:%s: syntax error: %s" % (config_file, e.lineno, e.msg))
    try:
        exec(code, ns)
    except ImportError as e:
        # the top level runs here on the host too: unikernel-only modules (c.package,
        # _xen, drivers) are imported inside main
        raise ConfigError("%s: %s while loading it on the host: the top level of a config "
                          "file also runs at configure time, so import PyPI packages and "
                          "unikernel-only modules inside main" % (config_file, e))
    fn = ns.get("config")
    if not callable(fn):
        raise ConfigError("%s: defines no config(c) function" % config_file)
    c = Builder(name, target, raw or {}, root)
    fn(c)
    main = ns.get("main")
    cfg = c.resolved(path, callable(main))
    from morgana.host import devcheck
    devcheck.check(src, config_file, cfg)
    return cfg
