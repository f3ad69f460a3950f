# Host side of `morgana configure/build/run/clean`: the build directory build/NAME/
#   config.json   the resolved config        _boot.py   generated boot module
#   app.py        copy of configs/NAME.py     _kv_data.py / kv.img   the kv store
#   manifest.py, NAME.xen, NAME.xl            (xen targets)
#   site/, packages.json                      modules of c.package(...) and their record
import ast
import json
import os
import shutil
import subprocess
import sys
import time

from morgana.host import boot_gen
from morgana.host import config
from morgana.host import packages
from morgana.host import targets
from morgana.host.config import ConfigError

PYLIB = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOP = os.path.dirname(PYLIB)                       # the Morgana source tree
DRIVERS = [os.path.join(TOP, "drivers", d) for d in ("console", "netfront", "blkfront")]
# stdlib-named modules for MicroPython only (asyncio): on the image's and the unix
# targets' search path, never on CPython's, whose own asyncio they would shadow
COMPAT = os.path.join(PYLIB, "compat")
HOST_ONLY = ("morgana.host",)           # the host tool's package: never in an image


def say(msg):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


def build_root(path=None):
    return os.path.abspath(path or os.environ.get("MORGANA_BUILD") or "build")


def _current(root, name):
    if name:
        return name
    try:
        with open(os.path.join(root, "current")) as f:
            return f.read().strip()
    except OSError:
        raise ConfigError("nothing configured yet: run `morgana configure CONFIG.py "
                          "--target TARGET` first")


def load_cfg(root, name=None):
    name = _current(root, name)
    path = os.path.join(root, name, "config.json")
    if not os.path.isfile(path):
        raise ConfigError("%s is not configured (no %s)" % (name, path))
    with open(path) as f:
        return json.load(f)


# ------------------------------------------------------------------------ configure
def configure(config_file, target, raw, root=None):
    root = build_root(root)
    cfg = config.load(config_file, target, raw)
    t = targets.get(target)
    bdir = os.path.join(root, cfg["name"])
    cfg["build_dir"] = bdir
    cfg["target_platform"] = t.platform
    cfg["arch"] = t.arch
    os.makedirs(bdir, exist_ok=True)
    pkgs = _install_packages(cfg, bdir)
    shutil.copyfile(cfg["config_file"], os.path.join(bdir, "app.py"))
    _write(os.path.join(bdir, "_boot.py"), boot_gen.source(cfg))
    _write(os.path.join(bdir, "config.json"), json.dumps(cfg, indent=1, sort_keys=True))
    _write(os.path.join(root, "current"), cfg["name"] + "\n")
    opts = " ".join("%s=%s" % (k, cfg["options"][k]) for k in sorted(cfg["options"]))
    say("configured %s for %s in %s" % (cfg["name"], target, bdir))
    say("  options: %s" % opts)
    for rec in pkgs:
        say("  " + packages.describe(rec))
        if rec["requires_not_declared"]:
            say("    note: %s %s requires %s: dependencies are not followed (add "
                "c.package(...) for those the image needs)"
                % (rec["name"], rec["version"], ", ".join(rec["requires_not_declared"])))
    return cfg


def site_dir(cfg):
    """build/NAME/site: the modules of the config's PyPI packages (c.package)."""
    return os.path.join(cfg["build_dir"], "site")


def _search(cfg):
    """Where the image's modules come from, in order (the build dir first)."""
    return [cfg["build_dir"], PYLIB, COMPAT] + DRIVERS + [site_dir(cfg)]


def _install_packages(cfg, bdir):
    """Resolve c.package(...) into build/NAME/site and write build/NAME/packages.json."""
    reserved = packages.runtime_modules([PYLIB, COMPAT] + DRIVERS)
    reserved.update(["_boot", "app", boot_gen.KV_MODULE])
    reserved.update(g[0] for g in cfg["generate"])
    recs = packages.install(cfg.get("packages") or [], site_dir(cfg), reserved)
    _write(os.path.join(bdir, "packages.json"),
           json.dumps({"cache": packages.cache_root(), "packages": recs}, indent=1,
                      sort_keys=True))
    return recs


def _write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


# ------------------------------------------------------------------------ build
class Step:
    """Progress of one build step: '[2/4] crunch htdocs ... done (0.3 s)'."""

    def __init__(self, n, total, what):
        self.t0 = time.time()
        sys.stdout.write("[%d/%d] %s ..." % (n, total, what))
        sys.stdout.flush()

    def done(self, note=""):
        say(" %s(%.1f s)" % (note + " " if note else "", time.time() - self.t0))


def _tool_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = PYLIB + (os.pathsep + env["PYTHONPATH"]
                                 if env.get("PYTHONPATH") else "")
    return env


def _fat_image(src, img):
    for tool in ("mkfs.fat", "mcopy"):
        if shutil.which(tool) is None:
            raise ConfigError("FS=fat needs %s (Debian packages dosfstools and mtools)"
                              % tool)
    total = 0
    for dirpath, _, files in os.walk(src):
        for fn in files:
            total += os.path.getsize(os.path.join(dirpath, fn))
    kb = max(16 * 1024, (total // 1024) * 2 + 4096)   # FAT16 wants >= ~16 MiB
    if os.path.exists(img):
        os.unlink(img)
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    subprocess.run(["mkfs.fat", "-C", "-F", "16", "-n", "MORGANA", img, str(kb)],
                   check=True, capture_output=True, env=env)
    entries = [os.path.join(src, e) for e in sorted(os.listdir(src))
               if not e.startswith(".")]
    if entries:
        subprocess.run(["mcopy", "-s", "-m", "-i", img] + entries + ["::/"],
                       check=True, capture_output=True, env=env)
    return kb


def _storage_step(cfg, st):
    from morgana.host import storage_img as storage
    img = boot_gen.storage_image(cfg, st)

    def step():
        try:
            if os.path.exists(img):
                storage.check_image(st["name"], img, st["size_mib"])
                return "kept (%s)" % _rel(img)
            storage.format_image(img, st["size_mib"], st["block_size"])
        except storage.StorageError as e:
            raise ConfigError(str(e))
        return "formatted %s: %d MiB, %d-byte blocks" % (_rel(img), st["size_mib"],
                                                         st["block_size"])
    return ("storage %s (littlefs)" % st["name"], step)


def _gen_steps(cfg):
    kv = cfg["kv"]
    bdir = cfg["build_dir"]
    steps = [_storage_step(cfg, st) for st in cfg.get("storage", ())]
    if kv is not None and kv["fs"] == "crunch":
        out = os.path.join(bdir, boot_gen.KV_MODULE + ".py")

        def crunch_step(kv=kv, out=out):
            from morgana.host import crunch
            if cfg["target"].startswith("xen"):
                try:        # the files go into the image: they must leave room in the guest
                    crunch.check_fits(crunch.sizes(kv["root"]), cfg["memory"])
                except ValueError as e:
                    raise ConfigError(str(e))
            return "%d files" % crunch.write_module(kv["root"], out)
        steps.append(("crunch %s -> %s" % (_rel(kv["root"]), _rel(out)), crunch_step))
    if kv is not None and kv["fs"] == "fat":
        img = os.path.join(bdir, boot_gen.KV_IMAGE)

        def fat_step(kv=kv, img=img):
            return "%d KiB" % _fat_image(kv["root"], img)
        steps.append(("FAT image of %s -> %s" % (_rel(kv["root"]), _rel(img)), fat_step))
    for modname, argv in cfg["generate"]:
        out = os.path.join(bdir, modname + ".py")

        def gen_step(argv=argv, out=out):
            r = subprocess.run([sys.executable, "-m"] + argv + [out], cwd=cfg["root"],
                               env=_tool_env(), capture_output=True, text=True)
            if r.returncode != 0:
                raise ConfigError("generate %s failed:\n%s" % (argv[0], r.stderr[-2000:]))
            return ""
        steps.append(("generate %s (python -m %s)" % (modname, " ".join(argv)), gen_step))
    return steps


def _rel(p):
    try:
        r = os.path.relpath(p)
    except ValueError:
        return p
    return p if r.startswith("../..") else r


def build(root=None, name=None, jobs=2):
    root = build_root(root)
    cfg = load_cfg(root, name)
    steps = _gen_steps(cfg)
    xen = cfg["target"].startswith("xen")
    total = len(steps) + (3 if xen else 1)
    n = 0
    for what, fn in steps:
        n += 1
        s = Step(n, total, what)
        s.done(fn() or "")
    if not xen:
        n += 1
        s = Step(n, total, "check modules compile")
        mods = module_closure(cfg)
        for path in mods.values():
            with open(path) as f:
                compile(f.read(), path, "exec")
        s.done("%d modules" % len(mods))
        say("built %s: run it with `morgana run`" % cfg["name"])
        return cfg
    n += 1
    s = Step(n, total, "manifest")
    mods = module_closure(cfg)
    _write(os.path.join(cfg["build_dir"], "manifest.py"), manifest_source(cfg, mods))
    s.done("%d modules" % len(mods))
    n += 1
    s = Step(n, total, "kernel (make -C kernel ARCH=%s)" % cfg["arch"])
    _make_kernel(cfg, jobs)
    img = os.path.join(cfg["build_dir"], cfg["name"] + ".xen")
    s.done("%s, %d KiB" % (_rel(img), os.path.getsize(img) // 1024))
    n += 1
    s = Step(n, total, "xl config")
    _write(os.path.join(cfg["build_dir"], cfg["name"] + ".xl"), xl_source(cfg))
    s.done(_rel(os.path.join(cfg["build_dir"], cfg["name"] + ".xl")))
    return cfg


def _make_kernel(cfg, jobs):
    bdir = cfg["build_dir"]
    cmd = ["make", "-C", os.path.join(TOP, "kernel"), "-j%d" % jobs, "ARCH=" + cfg["arch"],
           "NAME=" + cfg["name"], "MANIFEST=" + os.path.join(bdir, "manifest.py"),
           "BUILD=" + bdir]
    if cfg["kv"] is not None and cfg["kv"]["fs"] == "crunch":
        # mpy-cross holds every constant of the crunched module at once (its default
        # 2 MiB heap fails for a 1 MiB site)
        from morgana.host import crunch
        total = sum(n for _, n in crunch.sizes(cfg["kv"]["root"]))
        cmd.append("MPY_CROSS_EXTRA=-X heapsize=%d" % crunch.mpy_cross_heap(total))
    log_path = os.path.join(bdir, "kernel.log")
    with open(log_path, "w") as log:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        count = 0
        for line in p.stdout:
            log.write(line)
            count += 1
            if count % 50 == 0:          # the kernel build is long: show it moving
                sys.stdout.write(".")
                sys.stdout.flush()
        rc = p.wait()
    if rc != 0:
        with open(log_path) as f:
            tail = f.read()[-3000:]
        raise ConfigError("kernel build failed (%s):\n%s" % (log_path, tail))


# ------------------------------------------------------------------------ modules
def _find_module(name, search):
    parts = name.split(".")
    for base in search:
        p = os.path.join(base, *parts)
        if os.path.isfile(p + ".py"):
            return p + ".py", base
        if os.path.isfile(os.path.join(p, "__init__.py")):
            return os.path.join(p, "__init__.py"), base
    return None, None


def _imports(path):
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                out.append(a.name)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
            for a in node.names:        # `from morgana import sched` imports a module
                out.append(node.module + "." + a.name)
    return out


def module_closure(cfg):
    """{module name: file} of everything the image imports, transitively: _boot, app,
    generated modules, c.modules(...) and what they import from pylib/ and drivers/.
    Imports inside functions count (lazy imports must be in the image too)."""
    search = _search(cfg)
    todo = ["_boot", "app"] + [g[0] for g in cfg["generate"]] + list(cfg["modules"])
    if cfg["kv"] is not None and cfg["kv"]["fs"] == "crunch":
        todo.append(boot_gen.KV_MODULE)
    found = {}
    never = HOST_ONLY + targets.get(cfg["target"]).never
    while todo:
        name = todo.pop()
        if name in found or name in never or name.startswith(HOST_ONLY[0] + "."):
            continue
        path, _ = _find_module(name, search)
        if path is None:
            if name in cfg["modules"]:
                raise ConfigError("c.modules: no module %r in pylib/, drivers/ or the "
                                  "config's packages" % name)
            continue                     # built into MicroPython (sys, struct, _xen...)
        found[name] = path
        if "." in name:                  # a package's __init__ comes with its modules
            todo.append(name.rsplit(".", 1)[0])
        todo.extend(_imports(path))
    return found


def manifest_source(cfg, mods):
    """MicroPython freeze manifest: module(path, base_path) keeps package paths, so
    pylib/morgana/sched.py freezes as morgana.sched."""
    lines = ["# Generated by `morgana build` for %s (%s): %d modules. Do not edit."
             % (cfg["name"], cfg["target"], len(mods))]
    search = _search(cfg)
    for name in sorted(mods):
        path = mods[name]
        base = None
        for b in search:      # the longest base: site/ is inside the build dir
            if path.startswith(b + os.sep) and (base is None or len(b) > len(base)):
                base = b
        rel = os.path.relpath(path, base).replace(os.sep, "/")
        lines.append("module(%r, base_path=%r)" % (rel, base))
    return "\n".join(lines) + "\n"


def xl_source(cfg):
    name = cfg["name"]
    bdir = cfg["build_dir"]
    lines = ["# Generated by `morgana build`: xl create -c %s.xl" % name,
             'name = "%s"' % name,
             'type = "pv"',
             'kernel = "%s"' % os.path.join(bdir, name + ".xen"),
             "memory = %d" % cfg["memory"],
             "vcpus = 1",
             'on_crash = "destroy"',
             'on_poweroff = "destroy"',
             'on_reboot = "restart"']
    net = cfg["network"]
    if net is not None and net["stack"] == "direct":
        lines.append('vif = [ "bridge=%s" ]' % net.get("bridge", "xenbr0"))
    ds = boot_gen.disks(cfg)
    if ds:
        items = []
        for i, (dname, image, devid, ro) in enumerate(ds):
            items.append('"format=raw, vdev=xvd%s, access=%s, target=%s"'
                         % (chr(ord("a") + i), "ro" if ro else "rw", image))
        lines.append("disk = [ %s ]" % ", ".join(items))
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------ run, clean
def micropython_path():
    return os.environ.get("MORGANA_MICROPYTHON") or os.path.join(TOP, "build", "unix",
                                                                  "micropython")


def run_command(cfg, python="micropython"):
    """(argv, env) that runs a unix-target unikernel in the foreground."""
    bdir = cfg["build_dir"]
    path = os.pathsep.join(_search(cfg))
    env = dict(os.environ)
    boot = os.path.join(bdir, "_boot.py")
    if python == "micropython":
        mp = micropython_path()
        if not os.path.isfile(mp):
            raise ConfigError("no MicroPython at %s: run `make unix` (or --python cpython)"
                              % mp)
        env["MICROPYPATH"] = path
        return [mp, "-X", "heapsize=%dM" % cfg["memory"], boot], env
    if python == "cpython":
        env["PYTHONPATH"] = path
        return [sys.executable, boot], env
    raise ConfigError("--python: %r is not micropython or cpython" % (python,))


def run(root=None, name=None, python="micropython"):
    cfg = load_cfg(build_root(root), name)
    if cfg["target"].startswith("xen"):
        xl = os.path.join(cfg["build_dir"], cfg["name"] + ".xl")
        if not os.path.isfile(xl):
            raise ConfigError("%s is not built: run `morgana build`" % cfg["name"])
        if shutil.which("xl") is None:
            raise ConfigError("xen targets run under Xen: in dom0, `xl create -c %s` "
                              "(tests/xen boots them in QEMU)" % xl)
        argv, env = ["xl", "create", "-c", xl], None
    else:
        if cfg["kv"] is not None and cfg["kv"]["fs"] == "crunch" and not os.path.isfile(
                os.path.join(cfg["build_dir"], boot_gen.KV_MODULE + ".py")):
            raise ConfigError("%s is not built: run `morgana build`" % cfg["name"])
        argv, env = run_command(cfg, python)
    sys.stdout.flush()
    os.execvpe(argv[0], argv, env if env is not None else os.environ)


def clean(root=None, name=None):
    root = build_root(root)
    name = _current(root, name)
    bdir = os.path.join(root, name)
    if not os.path.isdir(bdir):
        say("nothing to clean for %s" % name)
        return
    keep = set()
    try:
        with open(os.path.join(bdir, "config.json")) as f:
            keep = set(st["image"] for st in json.load(f).get("storage", ()))
    except (OSError, ValueError):
        pass
    kept = [e for e in os.listdir(bdir) if e in keep]
    if not kept:
        shutil.rmtree(bdir)
        say("removed %s" % bdir)
        return
    for e in os.listdir(bdir):       # storage volumes hold the app's data: kept
        if e in keep:
            continue
        p = os.path.join(bdir, e)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        else:
            os.unlink(p)
    say("cleaned %s (kept the storage image%s %s: delete by hand to start empty)"
        % (bdir, "s" if len(kept) > 1 else "", ", ".join(sorted(kept))))
