# Packages from PyPI in the image (c.package): fetched with pip at configure time into a
# cache, recorded in build/NAME/packages.json, on the run path (unix) and in the freeze
# manifest (xen); a second configure works with pip cut off; a missing package and one
# with C extensions are refused with the package's name. The C-extension and sdist cases
# use packages made here (a local --find-links directory), not a registry package's shape.
import hashlib
import io
import json
import os
import re
import tarfile
import zipfile

import pytest

from cli_helpers import MICROPYTHON, TOP, morgana
from morgana.host import build
from morgana.host import config
from morgana.host.config import ConfigError

APP = """\
def config(c):
    c.network()
    c.package(%r)


async def main(env):
    try:
        import %s as pkg
    except ImportError as e:
        print("pkg-test import error:", e)
        return
    print("pkg-test", pkg.__name__, getattr(pkg, "__version__", "?"), pkg.__file__)
"""


def _project(base, spec, module=None, name="pkapp"):
    """base/configs/NAME.py importing `module` and declaring c.package(spec)."""
    d = base / "configs"
    d.mkdir(parents=True, exist_ok=True)
    p = d / (name + ".py")
    p.write_text(APP % (spec, module or spec.split("=")[0].split(">")[0].split("<")[0]))
    return str(p)


def _offline(tmp_path):
    """Variables under which pip can reach no index and no find-links with anything."""
    empty = tmp_path / "no-links"
    empty.mkdir(exist_ok=True)
    return {"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(empty), "PIP_INDEX_URL": "http://127.0.0.1:9/simple"}


def _sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _packages_json(bdir, name="pkapp"):
    with open(os.path.join(str(bdir), name, "packages.json")) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def cold(tmp_path_factory):
    """microdot configured once for unix-socket with an empty cache: pip fetches it."""
    base = tmp_path_factory.mktemp("pk")
    cache = base / "cache"
    env = {"MORGANA_PYPI_CACHE": str(cache)}
    cfgfile = _project(base / "proj", "microdot==2.*", "microdot")
    bdir = base / "build"
    r = morgana(bdir, "configure", cfgfile, "--target", "unix-socket", env=env,
                timeout=600)
    return {"base": base, "cache": cache, "env": env, "config": cfgfile, "bdir": bdir,
            "out": r.stdout}


# ------------------------------------------------------------------------ microdot
def test_fetched_and_recorded(cold):
    pj = _packages_json(cold["bdir"])
    assert pj["cache"] == str(cold["cache"])
    (rec,) = pj["packages"]
    assert rec["name"] == "microdot" and rec["spec"] == "microdot==2.*"
    assert re.match(r"2\.\d+(\.\d+)*$", rec["version"]), rec
    assert rec["file"] == "microdot-%s-py3-none-any.whl" % rec["version"]
    assert rec["source"] == "pip"
    cached = cold["cache"] / "microdot" / rec["file"]
    assert cached.is_file() and rec["wheel"] == str(cached)
    assert rec["sha256"] == _sha256(str(cached))
    assert "microdot" in rec["modules"] and "microdot.microdot" in rec["modules"]
    # printed during configure: version, file name and sha256
    assert ("package microdot %s: %s sha256 %s (pip"
            % (rec["version"], rec["file"], rec["sha256"])) in cold["out"]
    # only .py files of the package in the site: no stubs, no dist-info
    site = cold["bdir"] / "pkapp" / "site"
    files = sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file())
    assert "microdot/microdot.py" in files and "microdot/__init__.py" in files
    assert all(f.endswith(".py") and f.startswith("microdot/") for f in files), files
    cfg = json.load(open(str(cold["bdir"] / "pkapp" / "config.json")))
    assert cfg["packages"] == ["microdot==2.*"]


def test_on_the_module_path_of_build_and_run(cold):
    bdir = cold["bdir"]
    cfg = build.load_cfg(str(bdir), "pkapp")
    site = os.path.join(cfg["build_dir"], "site")
    mods = build.module_closure(cfg)
    assert mods["microdot"] == os.path.join(site, "microdot", "__init__.py")
    assert mods["microdot.microdot"] == os.path.join(site, "microdot", "microdot.py")
    assert "microdot.jinja" not in mods          # only what the app reaches
    out = morgana(bdir, "build", "pkapp").stdout
    assert "check modules compile ... %d modules" % len(mods) in out
    # CPython: the package's own file answers the import
    r = morgana(bdir, "run", "pkapp", "--python", "cpython", timeout=60)
    assert "pkg-test microdot %s %s" % (
        _packages_json(bdir)["packages"][0]["version"],
        os.path.join(site, "microdot", "__init__.py")) in r.stdout, r.stdout + r.stderr
    # MicroPython: MICROPYPATH has the site (microdot is found; its own imports may
    # still want runtime modules such as asyncio)
    argv, env = build.run_command(cfg)
    assert site in env["MICROPYPATH"].split(os.pathsep)
    if os.path.isfile(MICROPYTHON):
        r = morgana(bdir, "run", "pkapp", timeout=60)
        assert "pkg-test" in r.stdout, r.stdout + r.stderr
        assert "no module named 'microdot'" not in r.stdout


def test_second_configure_from_the_cache_offline(cold, tmp_path):
    off = _offline(tmp_path)
    bdir = tmp_path / "build"
    env = dict(cold["env"], **off)
    r = morgana(bdir, "configure", cold["config"], env=env)
    rec = _packages_json(bdir)["packages"][0]
    first = _packages_json(cold["bdir"])["packages"][0]
    assert rec["source"] == "cache" and "(cache, " in r.stdout
    assert (rec["file"], rec["sha256"]) == (first["file"], first["sha256"])
    # another spec the cached file satisfies is resolved from the cache too
    other = _project(tmp_path / "p2", "microdot>=2.0,<3", "microdot", name="pk2")
    morgana(bdir, "configure", other, env=env)
    assert _packages_json(bdir, "pk2")["packages"][0]["file"] == first["file"]
    # the same variables really cut pip off: an empty cache fails, and so does a spec
    # the cached file does not satisfy
    r = morgana(bdir, "configure", cold["config"], check=False,
                env=dict(off, MORGANA_PYPI_CACHE=str(tmp_path / "empty-cache")))
    assert r.returncode == 1 and "package microdot==2.*: not found" in r.stderr, r.stderr
    old = _project(tmp_path / "p3", "microdot==1.*", "microdot", name="pk3")
    r = morgana(bdir, "configure", old, check=False, env=env)
    assert r.returncode == 1 and "package microdot==1.*: not found" in r.stderr, r.stderr


def test_xen_image_freezes_the_package(cold, tmp_path):
    bdir = tmp_path / "build"
    morgana(bdir, "configure", cold["config"], "--target", "xen-x86_64", env=cold["env"])
    out = morgana(bdir, "build", timeout=900).stdout
    bd = bdir / "pkapp"
    manifest = (bd / "manifest.py").read_text()
    site = str(bd / "site")
    # frozen under their package paths (microdot.microdot), not site.microdot...
    assert "module('microdot/__init__.py', base_path=%r)" % site in manifest
    assert "module('microdot/microdot.py', base_path=%r)" % site in manifest
    assert "microdot/jinja.py" not in manifest
    assert (bd / "pkapp.xen").is_file(), out
    assert (bd / "frozen_mpy" / "microdot" / "microdot.mpy").is_file()


def test_default_cache_is_the_repos(tmp_path):
    env = dict(os.environ)
    env.pop("MORGANA_PYPI_CACHE", None)
    cfgfile = _project(tmp_path / "proj", "microdot==2.*", "microdot")
    bdir = tmp_path / "build"
    import subprocess
    from cli_helpers import MORGANA
    r = subprocess.run([MORGANA, "-B", str(bdir), "configure", cfgfile], cwd=TOP,
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    pj = _packages_json(bdir)
    assert pj["cache"] == os.path.join(TOP, ".cache", "pypi", "wheels")
    rec = pj["packages"][0]
    path = os.path.join(TOP, ".cache", "pypi", "wheels", "microdot", rec["file"])
    assert rec["wheel"] == path and rec["sha256"] == _sha256(path)


# ------------------------------------------------------------------------ refusals
def test_missing_package_named(tmp_path):
    cfgfile = _project(tmp_path / "proj", "morgana-no-such-package-xq==1.0",
                       "morgana_no_such_package_xq")
    r = morgana(tmp_path / "build", "configure", cfgfile, check=False, timeout=600,
                env={"MORGANA_PYPI_CACHE": str(tmp_path / "cache")})
    assert r.returncode == 1
    assert "package morgana-no-such-package-xq==1.0: not found on the package index" \
        in r.stderr, r.stderr


def _wheel(d, name, version, tag, files, requires=()):
    dist = name.replace("-", "_")
    path = d / ("%s-%s-%s.whl" % (dist, version, tag))
    info = "%s-%s.dist-info/" % (dist, version)
    with zipfile.ZipFile(str(path), "w") as z:
        for member, data in files.items():
            z.writestr(member, data)
        z.writestr(info + "METADATA", "Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s"
                   % (name, version, "".join("Requires-Dist: %s\n" % r
                                            for r in requires)))
        z.writestr(info + "WHEEL", "Wheel-Version: 1.0\nGenerator: test\n"
                   "Root-Is-Purelib: %s\nTag: %s\n"
                   % ("true" if tag.endswith("none-any") else "false", tag))
        z.writestr(info + "RECORD", "")
    return path


def _sdist(d, name, version, setup_extra="", requires=()):
    dist = name.replace("-", "_")
    top = "%s-%s/" % (dist, version)
    files = {
        top + "PKG-INFO": "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name,
                                                                           version),
        top + "setup.py": (
            "from setuptools import setup, Distribution\n"
            "class Dist(Distribution):\n"
            "    pass\n%s\n"
            "setup(name=%r, version=%r, packages=[%r], distclass=Dist,\n"
            "      install_requires=%r)\n" % (setup_extra, name, version, dist,
                                             list(requires))),
        top + dist + "/__init__.py": "VALUE = 42\n",
    }
    path = d / ("%s-%s.tar.gz" % (dist, version))
    with tarfile.open(str(path), "w:gz") as t:
        for member, text in files.items():
            data = text.encode()
            ti = tarfile.TarInfo(member)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return path


def _with_links(tmp_path, links):
    """pip sees the configured indexes plus the directory links (our fixtures)."""
    return {"MORGANA_PYPI_CACHE": str(tmp_path / "cache"), "PIP_FIND_LINKS": str(links)}


def _host_tag():
    from packaging import tags
    return str(next(iter(tags.sys_tags())))


def test_c_extension_wheel_refused(tmp_path):
    links = tmp_path / "links"
    links.mkdir()
    _wheel(links, "morgana-cext-fixture", "1.0", _host_tag(),
           {"morgana_cext_fixture/__init__.py": "from ._speedups import *\n",
            "morgana_cext_fixture/_speedups.so": b"\x7fELF not really"})
    cfgfile = _project(tmp_path / "proj", "morgana-cext-fixture", "morgana_cext_fixture")
    r = morgana(tmp_path / "build", "configure", cfgfile, check=False, timeout=600,
                env=_with_links(tmp_path, links))
    assert r.returncode == 1
    assert "package morgana-cext-fixture:" in r.stderr, r.stderr
    assert "C extensions" in r.stderr and _host_tag() in r.stderr
    # a refused download is not cached
    assert not (tmp_path / "cache" / "morgana-cext-fixture").exists()


def test_pure_wheel_with_dependency_and_runtime_clash(tmp_path):
    links = tmp_path / "links"
    links.mkdir()
    _wheel(links, "morgana-pure-fixture", "1.2", "py3-none-any",
           {"morgana_pure_fixture/__init__.py": "__version__ = '1.2'\n",
            "morgana_pure_fixture/helper.pyi": "x: int\n"},
           requires=["microdot>=2", "pytest; extra == 'test'"])
    _wheel(links, "morgana-shadow-fixture", "1.0", "py2.py3-none-any",
           {"morgana/__init__.py": "# shadows the runtime\n"})
    env = _with_links(tmp_path, links)
    cfgfile = _project(tmp_path / "proj", "morgana-pure-fixture==1.*",
                       "morgana_pure_fixture")
    r = morgana(tmp_path / "build", "configure", cfgfile, env=env, timeout=600)
    rec = _packages_json(tmp_path / "build")["packages"][0]
    assert rec["version"] == "1.2" and rec["modules"] == ["morgana_pure_fixture"]
    assert rec["requires"] == ["microdot>=2"]
    assert "note: morgana-pure-fixture 1.2 requires microdot>=2: dependencies are not " \
           "followed" in r.stdout, r.stdout
    site = tmp_path / "build" / "pkapp" / "site" / "morgana_pure_fixture"
    assert sorted(os.listdir(str(site))) == ["__init__.py"]
    cfgfile = _project(tmp_path / "proj2", "morgana-shadow-fixture",
                       "morgana_shadow_fixture")
    r = morgana(tmp_path / "build", "configure", cfgfile, env=env, check=False,
                timeout=600)
    assert r.returncode == 1
    assert "package morgana-shadow-fixture: it provides module 'morgana'" in r.stderr


def test_sdist_built_here_pure_accepted_binary_refused(tmp_path):
    links = tmp_path / "links"
    links.mkdir()
    _sdist(links, "morgana-sdist-pure", "0.3")
    _sdist(links, "morgana-sdist-cext", "0.1",
           setup_extra="    def has_ext_modules(self):\n        return True\n")
    env = _with_links(tmp_path, links)
    cfgfile = _project(tmp_path / "proj", "morgana-sdist-pure", "morgana_sdist_pure")
    morgana(tmp_path / "build", "configure", cfgfile, env=env, timeout=900)
    rec = _packages_json(tmp_path / "build")["packages"][0]
    assert rec["file"] == "morgana_sdist_pure-0.3-py3-none-any.whl"
    sdist = tmp_path / "cache" / "morgana-sdist-pure" / "morgana_sdist_pure-0.3.tar.gz"
    assert rec["built_from"] == {"file": sdist.name, "sha256": _sha256(str(sdist))}
    # the built wheel is cached: the next configure needs no pip (nor a build)
    morgana(tmp_path / "build", "configure", cfgfile, timeout=120,
            env=dict(env, **_offline(tmp_path)))
    again = _packages_json(tmp_path / "build")["packages"][0]
    assert again["source"] == "cache" and again["sha256"] == rec["sha256"]
    assert again["built_from"] == rec["built_from"]
    cfgfile = _project(tmp_path / "proj2", "morgana-sdist-cext", "morgana_sdist_cext")
    r = morgana(tmp_path / "build", "configure", cfgfile, env=env, check=False,
                timeout=900)
    assert r.returncode == 1
    assert "package morgana-sdist-cext: wheel morgana_sdist_cext-0.1-" in r.stderr, \
        r.stderr
    assert "(built from morgana_sdist_cext-0.1.tar.gz)" in r.stderr
    assert "not py3-none-any: it has C extensions" in r.stderr
    assert not (tmp_path / "cache" / "morgana-sdist-cext").exists()


@pytest.mark.parametrize("spec,why", [
    ("", "expected a requirement"),
    ("micro dot!", "not a requirement"),
    ("microdot[async]", "extras are not supported"),
    ("microdot @ https://example.invalid/m.whl", "URL requirements"),
    ("microdot; python_version > '3'", "environment markers"),
])
def test_bad_specs_refused(tmp_path, spec, why):
    cfgfile = _project(tmp_path / "proj", spec, "microdot")
    with pytest.raises(ConfigError, match=re.escape(why)):
        config.load(cfgfile, "unix-socket")


def test_same_package_twice_refused(tmp_path):
    d = tmp_path / "configs"
    d.mkdir()
    p = d / "twice.py"
    p.write_text("def config(c):\n    c.package('microdot==2.*')\n"
                 "    c.package('MicroDot>=1')\nasync def main(env):\n    pass\n")
    with pytest.raises(ConfigError, match=r"package MicroDot>=1 declared twice "
                                          r"\(also microdot==2\.\*\)"):
        config.load(str(p), "unix-socket")


def test_top_level_import_of_a_package_explained(tmp_path):
    d = tmp_path / "configs"
    d.mkdir()
    p = d / "top.py"
    p.write_text("import morgana_not_installed_here\n"
                 "def config(c):\n    c.package('morgana-not-installed-here')\n"
                 "async def main(env):\n    pass\n")
    with pytest.raises(ConfigError, match="import PyPI packages and unikernel-only "
                                          "modules inside main"):
        config.load(str(p), "unix-socket")
