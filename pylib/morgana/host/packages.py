# Pure-Python distributions from PyPI in an image (host side): c.package("microdot==2.*").
# At configure time each declared requirement is resolved to one pure wheel (tag
# py3-none-any or py2.py3-none-any), first from the cache, only then with pip:
#   .cache/pypi/wheels/NAME/FILE.whl        wheels we accepted (NAME: canonical name)
#   .cache/pypi/wheels/NAME/FILE.whl.json   how we got it: {"origin": "pip"} or, for a
#                                 wheel we built, {"origin": "sdist", "sdist": FILE, ...}
#   .cache/pypi/wheels/NAME/SDIST.tar.gz    the sdist such a wheel was built from
# ($MORGANA_PYPI_CACHE replaces .cache/pypi/wheels). A cached wheel whose version
# satisfies the specifier wins (the newest such), so configure works offline once
# something matching is cached; delete .cache/pypi/wheels/NAME for a newer release.
# Only accepted wheels are cached: a rejected download is thrown away. The .py files of
# the wheel go to build/NAME/site/, on the module search path of `morgana build` (freeze)
# and `morgana run` (MICROPYPATH/PYTHONPATH). Dependencies are never followed (pip
# --no-deps): a declared Requires-Dist is reported, and the config adds what the image
# needs with its own c.package(...).
import email.parser
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

from morgana.host.config import ConfigError

PYLIB = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOP = os.path.dirname(PYLIB)
PURE_TAGS = ("py3-none-any", "py2.py3-none-any")
BINARY_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")
PIP_TIMEOUT = 900                      # seconds for one pip command (a build can be slow)


def cache_root():
    return os.path.abspath(os.environ.get("MORGANA_PYPI_CACHE")
                           or os.path.join(TOP, ".cache", "pypi", "wheels"))


# ------------------------------------------------------------------------ requirements
def parse_spec(spec):
    """packaging Requirement of spec ('NAME' or 'NAME<specifier>'); ConfigError if it is
    not one or asks for what an image cannot have (extras, URLs, markers)."""
    from packaging.requirements import InvalidRequirement, Requirement
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError("package %r: expected a requirement such as 'microdot==2.*'"
                          % (spec,))
    try:
        req = Requirement(spec)
    except InvalidRequirement as e:
        raise ConfigError("package %r: not a requirement (%s)" % (spec, e))
    if req.url:
        raise ConfigError("package %r: URL requirements are not supported (name a "
                          "release on the package index)" % spec)
    if req.extras:
        raise ConfigError("package %r: extras are not supported (dependencies are not "
                          "followed: declare each package with its own c.package)" % spec)
    if req.marker is not None:
        raise ConfigError("package %r: environment markers are not supported (the "
                          "config decides what goes in the image)" % spec)
    return req


def _canon(name):
    from packaging.utils import canonicalize_name
    return canonicalize_name(name)


def same_name(a, b):
    return _canon(a) == _canon(b)


def _wheel_info(filename):
    """(canonical name, Version, 'tag.tag...' list) of a wheel file name, or None."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename
    try:
        name, version, _build, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return None
    return name, version, sorted(str(t) for t in tags)


def _is_pure_tags(tags):
    return bool(tags) and all(
        t.split("-")[1] == "none" and t.split("-")[2] == "any" and t.startswith("py")
        for t in tags)


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


# ------------------------------------------------------------------------ the cache
def _from_cache(req, cache):
    """Path of the newest cached wheel satisfying req, or None."""
    d = os.path.join(cache, _canon(req.name))
    if not os.path.isdir(d):
        return None
    found = {}
    for fn in os.listdir(d):
        if not fn.endswith(".whl"):
            continue
        info = _wheel_info(fn)
        if info is None or info[0] != _canon(req.name) or not _is_pure_tags(info[2]):
            continue
        found.setdefault(info[1], fn)
    ok = list(req.specifier.filter(found, prereleases=bool(req.specifier.prereleases)))
    if not ok:
        return None
    return os.path.join(d, found[max(ok)])


def _origin(wheel):
    try:
        with open(wheel + ".json") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {"origin": "pip"}


def _store(cache, name, files, origin):
    """Move files (the wheel first) into the cache atomically; the cached wheel path."""
    d = os.path.join(cache, name)
    os.makedirs(d, exist_ok=True)
    out = []
    for src in files:
        dst = os.path.join(d, os.path.basename(src))
        shutil.copyfile(src, dst + ".part")
        os.replace(dst + ".part", dst)
        out.append(dst)
    meta = out[0] + ".json"
    with open(meta + ".part", "w") as f:
        json.dump(origin, f, indent=1, sort_keys=True)
    os.replace(meta + ".part", meta)
    return out[0]


# ------------------------------------------------------------------------ pip
def _pip(args, cwd):
    cmd = [sys.executable, "-m", "pip"] + args
    try:
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                           timeout=PIP_TIMEOUT)
    except subprocess.TimeoutExpired:
        return False, "pip timed out after %d s" % PIP_TIMEOUT
    except OSError as e:
        return False, "cannot run pip: %s" % e
    return r.returncode == 0, r.stdout + r.stderr


def _pip_reason(out):
    """The lines of pip's output that say why it failed."""
    lines = [ln.strip() for ln in out.splitlines() if ln.strip().startswith("ERROR")]
    if not lines:
        lines = [ln.strip() for ln in out.splitlines() if ln.strip()][-3:]
    text = " ".join(lines)
    return text if len(text) < 1500 else text[:1500] + "..."


def _download(args, spec, tmp):
    d = tempfile.mkdtemp(dir=tmp)
    ok, out = _pip(["download", "--no-deps", "--disable-pip-version-check",
                    "--progress-bar", "off", "-d", d] + args + [spec], tmp)
    files = sorted(os.listdir(d)) if ok else []
    return (os.path.join(d, files[0]) if files else None), out


def _fetch(req, spec, cache):
    """Get a pure wheel for req with pip into the cache; ConfigError saying why not."""
    name = _canon(req.name)
    os.makedirs(cache, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-", dir=cache)
    try:
        # 1. a pure wheel (any Python 3: MicroPython is no CPython x.y, so Requires-Python
        #    says nothing about it)
        whl, out1 = _download(["--only-binary=:all:", "--platform", "any",
                               "--implementation", "py", "--abi", "none",
                               "--python-version", "3", "--ignore-requires-python"],
                              spec, tmp)
        if whl is not None:
            _check_wheel(spec, whl)
            return _store(cache, name, [whl], {"origin": "pip"})
        # 2. an sdist, built into a wheel here: accepted only if the wheel is pure
        sdist, out2 = _download(["--no-binary=:all:", "--ignore-requires-python"],
                                spec, tmp)
        if sdist is not None:
            wd = tempfile.mkdtemp(dir=tmp)
            ok, out = _pip(["wheel", "--no-deps", "--disable-pip-version-check",
                            "--progress-bar", "off", "-w", wd, sdist], tmp)
            built = sorted(f for f in os.listdir(wd) if f.endswith(".whl")) if ok else []
            if not built:
                raise ConfigError("package %s: %s has no pure wheel and building one "
                                  "from %s failed: %s" % (spec, req.name,
                                                          os.path.basename(sdist),
                                                          _pip_reason(out)))
            whl = os.path.join(wd, built[0])
            _check_wheel(spec, whl, sdist=os.path.basename(sdist))
            return _store(cache, name, [whl, sdist],
                          {"origin": "sdist", "sdist": os.path.basename(sdist),
                           "sdist_sha256": _sha256(sdist)})
        # 3. neither: a platform wheel for this host means compiled code, else nothing
        plat, _ = _download(["--only-binary=:all:"], spec, tmp)
        if plat is not None:
            info = _wheel_info(os.path.basename(plat))
            raise ConfigError(
                "package %s: %s ships only platform-specific wheels (%s, tag %s) and no "
                "sdist: it has C extensions, which cannot run in a MicroPython image "
                "(only pure-Python wheels, tag py3-none-any, can)"
                % (spec, req.name, os.path.basename(plat),
                   ".".join(info[2]) if info else "?"))
        raise ConfigError("package %s: not found on the package index (pip: %s)"
                          % (spec, _pip_reason(out2 or out1)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _check_wheel(spec, whl, sdist=None):
    fn = os.path.basename(whl)
    info = _wheel_info(fn)
    origin = " (built from %s)" % sdist if sdist else ""
    if info is None:
        raise ConfigError("package %s: %s is not a wheel file name" % (spec, fn))
    if not _is_pure_tags(info[2]):
        raise ConfigError("package %s: wheel %s%s has tag %s, not py3-none-any: it has C "
                          "extensions, which cannot run in a MicroPython image"
                          % (spec, fn, origin, ".".join(info[2])))
    with zipfile.ZipFile(whl) as z:
        binaries = [n for n in z.namelist() if n.lower().endswith(BINARY_SUFFIXES)]
    if binaries:
        raise ConfigError("package %s: wheel %s%s contains compiled code (%s): C "
                          "extensions cannot run in a MicroPython image"
                          % (spec, fn, origin, ", ".join(binaries[:3])))


# ------------------------------------------------------------------------ resolve
def resolve(spec, cache=None):
    """The record of one requirement: name, version, file, sha256, source, wheel path."""
    req = parse_spec(spec)
    cache = cache or cache_root()
    whl = _from_cache(req, cache)
    source = "cache"
    if whl is None:
        whl = _fetch(req, spec, cache)
        source = "pip"
    name, version, tags = _wheel_info(os.path.basename(whl))
    if name != _canon(req.name) or not req.specifier.contains(version, prereleases=True):
        raise ConfigError("package %s: pip gave %s, which does not satisfy it"
                          % (spec, os.path.basename(whl)))
    rec = {"spec": spec, "name": name, "version": str(version),
           "file": os.path.basename(whl), "sha256": _sha256(whl), "source": source,
           "wheel": whl}
    origin = _origin(whl)
    if origin.get("origin") == "sdist":
        rec["built_from"] = {"file": origin.get("sdist"),
                             "sha256": origin.get("sdist_sha256")}
    return rec


def _requires(z):
    """[(requirement, canonical name)] of the wheel's Requires-Dist in zipfile z, but for
    those of extras."""
    meta = [n for n in z.namelist()
            if n.count("/") == 1 and n.split("/")[0].endswith(".dist-info")
            and n.endswith("/METADATA")]
    if not meta:
        return []
    msg = email.parser.Parser().parsestr(z.read(meta[0]).decode("utf-8", "replace"))
    from packaging.requirements import InvalidRequirement, Requirement
    out = []
    for line in msg.get_all("Requires-Dist") or []:
        try:
            r = Requirement(line)
        except InvalidRequirement:
            continue
        if r.marker is not None and "extra" in str(r.marker):
            continue
        out.append((str(r), _canon(r.name)))
    return out


def _members(z):
    """(archive name, path in site) of the wheel's .py files: the package files and
    NAME.data/purelib/; dist-info, other .data parts, stubs and data files stay out."""
    out = []
    for n in z.namelist():
        if n.endswith("/") or not n.endswith(".py"):
            continue
        parts = n.split("/")
        if n.startswith("/") or ".." in parts or "\\" in n:
            raise ConfigError("wheel member %r: unsafe path" % n)
        if parts[0].endswith(".dist-info"):
            continue
        if parts[0].endswith(".data"):
            if len(parts) > 2 and parts[1] == "purelib":
                out.append((n, "/".join(parts[2:])))
            continue
        out.append((n, n))
    return out


def _module_name(rel):
    mod = rel[:-3].replace("/", ".")
    return mod[:-len(".__init__")] if mod.endswith(".__init__") else mod


def install(specs, site, reserved=(), cache=None):
    """Resolve every spec and extract its modules into site (recreated); the records,
    each with the modules it provides and its undeclared dependencies."""
    if os.path.isdir(site):
        shutil.rmtree(site)
    records = []
    if not specs:
        return records
    declared = set(_canon(parse_spec(s).name) for s in specs)
    owner = {}                      # path in site -> package
    reserved = set(reserved)
    os.makedirs(site)
    for spec in specs:
        rec = resolve(spec, cache)
        with zipfile.ZipFile(rec["wheel"]) as z:
            members = _members(z)
            mods = []
            for arc, rel in members:
                top = rel.split("/")[0]
                top = top[:-3] if top.endswith(".py") else top
                if top in reserved:
                    raise ConfigError("package %s: it provides module %r, which the "
                                      "unikernel already has (Morgana's runtime, its "
                                      "drivers or the build's own modules)" % (spec, top))
                if rel in owner:
                    raise ConfigError("packages %s and %s both provide %s"
                                      % (owner[rel], spec, rel))
                owner[rel] = spec
                dst = os.path.join(site, *rel.split("/"))
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                with open(dst, "wb") as f:
                    f.write(z.read(arc))
                mods.append(_module_name(rel))
            reqs = _requires(z)
        if not mods:
            raise ConfigError("package %s: wheel %s has no Python modules"
                              % (spec, rec["file"]))
        rec["modules"] = sorted(mods)
        rec["requires"] = [r for r, _ in reqs]
        rec["requires_not_declared"] = [r for r, n in reqs if n not in declared]
        records.append(rec)
    return records


def runtime_modules(bases):
    """Top-level module names importable from the directories bases."""
    out = set()
    for b in bases:
        if not os.path.isdir(b):
            continue
        for e in os.listdir(b):
            p = os.path.join(b, e)
            if e.endswith(".py"):
                out.add(e[:-3])
            elif os.path.isfile(os.path.join(p, "__init__.py")):
                out.add(e)
    return out


def describe(rec):
    """The configure line of one package."""
    how = rec["source"]
    if "built_from" in rec:
        how += ", built from %s" % rec["built_from"]["file"]
    return "package %s %s: %s sha256 %s (%s, %d modules)" % (
        rec["name"], rec["version"], rec["file"], rec["sha256"], how, len(rec["modules"]))
