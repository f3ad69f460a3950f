# Config as code (host side): typed options, device declarations, errors naming the bad
# field, the generated _boot.py per target, the freeze manifest and the xl file.
import json
import os
import sys

import pytest

from cli_helpers import TOP, morgana
from morgana.host import build
from morgana.host import config
from morgana.host.config import ConfigError


def _write(tmp_path, text, name="app1.py"):
    d = tmp_path / "proj" / "configs"
    d.mkdir(parents=True, exist_ok=True)
    (tmp_path / "proj" / "htdocs").mkdir(exist_ok=True)
    (tmp_path / "proj" / "htdocs" / "a.txt").write_text("a")
    p = d / name
    p.write_text(text)
    return str(p)


def test_typed_options_and_defaults():
    cfg = config.load(os.path.join(TOP, "configs/hello.py"), "unix-socket",
                      {"SCALE": "0.5", "ITERATIONS": "0x10"})
    o = cfg["options"]
    assert o["SCALE"] == 0.5 and o["ITERATIONS"] == 16 and o["LOOPS"] == 5
    assert o["MEM"] == 32 and o["LOG"] == "info"
    assert cfg["option_specs"]["LOOPS"][0] == "int"


def test_bool_option_words(tmp_path):
    p = _write(tmp_path, "def config(c):\n    c.option('FAST', False, 'x')\n"
                         "async def main(env):\n    pass\n")
    assert config.load(p, "unix-socket", {"FAST": "yes"})["options"]["FAST"] is True
    assert config.load(p, "unix-socket", {"FAST": "off"})["options"]["FAST"] is False
    with pytest.raises(ConfigError, match="option FAST: 'maybe' is not a yes/no value"):
        config.load(p, "unix-socket", {"FAST": "maybe"})


def test_network_defaults_per_target():
    www = os.path.join(TOP, "configs/www.py")
    assert config.load(www, "unix-socket")["network"] == {"stack": "socket",
                                                          "ip": "0.0.0.0"}
    tap = config.load(www, "unix-tap", {"IP": "10.0.0.9"})["network"]
    assert tap["stack"] == "direct" and tap["tap"] == "tap0" and tap["dhcp"] is False
    assert tap["ip"] == "10.0.0.9"
    xen = config.load(www, "xen-x86_64")["network"]
    assert xen["dhcp"] is True and xen["bridge"] == "xenbr0"
    with pytest.raises(ConfigError, match="option IP: '10.0.0' is not a dotted IPv4"):
        config.load(www, "unix-tap", {"IP": "10.0.0"})
    with pytest.raises(ConfigError, match="NET: 'direct' is not available on target "
                                          "unix-socket.*unix-tap"):
        config.load(www, "unix-socket", {"NET": "direct"})


def test_config_file_errors(tmp_path):
    p = _write(tmp_path, "x = 1\n")
    with pytest.raises(ConfigError, match="defines no config"):
        config.load(p, "unix-socket")
    p = _write(tmp_path, "def config(c):\n    pass\n")
    with pytest.raises(ConfigError, match="no `async def main\\(env\\)`"):
        config.load(p, "unix-socket")
    p = _write(tmp_path, "def config(c)\n")
    with pytest.raises(ConfigError, match="app1.py:1: syntax error"):
        config.load(p, "unix-socket")
    p = _write(tmp_path, "def config(c):\n    c.option('port', 1)\n")
    with pytest.raises(ConfigError, match="option name 'port'"):
        config.load(p, "unix-socket")
    p = _write(tmp_path, "def config(c):\n    c.http(8080)\nasync def main(e): pass\n")
    with pytest.raises(ConfigError, match="http service on port 8080 needs c.kv"):
        config.load(p, "unix-socket")
    p = _write(tmp_path, "def config(c):\n    c.kv('nosuchdir')\nasync def main(e): pass\n")
    with pytest.raises(ConfigError, match="kv: root 'nosuchdir' is not a directory"):
        config.load(p, "unix-socket")
    p = _write(tmp_path, "def config(c):\n    c.get('NOPE')\n")
    with pytest.raises(ConfigError, match="get\\('NOPE'\\): no such option"):
        config.load(p, "unix-socket")
    with pytest.raises(ConfigError, match="option MEM: 2 MiB is too small"):
        config.load(os.path.join(TOP, "configs/hello.py"), "unix-socket", {"MEM": "2"})
    with pytest.raises(ConfigError, match="option LOG: unknown log level 'loud'"):
        config.load(os.path.join(TOP, "configs/hello.py"), "unix-socket",
                    {"LOG": "info,http:loud"})


def test_parse_assignments():
    assert config.parse_assignments(["A=1", "B=x=y"]) == {"A": "1", "B": "x=y"}
    with pytest.raises(ConfigError, match="'A': options are written KEY=VALUE"):
        config.parse_assignments(["A"])


def _configure(bdir, target, *opts, cfgfile="configs/www.py"):
    morgana(bdir, "configure", cfgfile, "--target", target, *opts)
    name = os.path.basename(cfgfile)[:-3]
    with open(os.path.join(str(bdir), name, "config.json")) as f:
        return json.load(f)


def test_boot_source_swaps_only_devices(bdir):
    cfg = _configure(bdir, "unix-socket", "PORT=8080")
    sock = open(os.path.join(cfg["build_dir"], "_boot.py")).read()
    assert "import morgana.plat_unix as platform" in sock
    assert "socket_stack.Stack('0.0.0.0')" in sock
    assert "kv_crunch.from_module('_kv_data')" in sock
    cfg = _configure(bdir, "unix-tap", "IP=10.1.2.3", "FS=fat")
    tap = open(os.path.join(cfg["build_dir"], "_boot.py")).read()
    assert "tap.Tap('tap0')" in tap and "ip='10.1.2.3'" in tap
    assert "kv_fat.open_kv(kvblk)" in tap and "blk_file.BlockFile(" in tap
    cfg = _configure(bdir, "xen-x86_64", "FS=fat")
    xen = open(os.path.join(cfg["build_dir"], "_boot.py")).read()
    assert "import morgana.plat_xen as platform" in xen
    assert "await netfront.connect(0)" in xen and "dhcp=True" in xen
    assert "await blkfront.connect(51712)" in xen
    for src in (sock, tap, xen):
        compile(src, "_boot.py", "exec")
        assert "boot.start(platform, app, 'www'" in src


def test_xen_manifest_has_exactly_the_needed_modules(bdir):
    cfg = _configure(bdir, "xen-x86_64", "FS=crunch", "MEM=48")
    # what `morgana build` does before the kernel: generated modules, then the manifest
    for what, fn in build._gen_steps(cfg):
        fn()
    mods = build.module_closure(cfg)
    for m in ("_boot", "app", "_kv_data", "morgana", "morgana.sched", "morgana.boot",
              "morgana.plat_xen", "morgana.logs", "morgana.http.files", "morgana.store.kv_crunch",
              "morgana.net", "morgana.net.stack", "morgana.net.tcp", "morgana.net.dhcp",
              "netfront", "morgana.xen.xenstore"):
        assert m in mods, m
    for m in ("morgana.plat_unix", "morgana.net.socket_stack", "morgana.net.tap",
              "morgana.host.config", "morgana.host.crunch", "morgana.store.kv_fat", "blkfront"):
        assert m not in mods, m
    src = build.manifest_source(cfg, mods)
    # MicroPython's own manifest reader accepts it and freezes package paths
    sys.path.insert(0, os.path.join(TOP, ".cache", "micropython", "tools"))
    try:
        import manifestfile
    finally:
        sys.path.pop(0)
    path = os.path.join(cfg["build_dir"], "manifest.py")
    with open(path, "w") as f:
        f.write(src)
    m = manifestfile.ManifestFile(manifestfile.MODE_FREEZE, {"MPY_LIB_DIR": ""})
    m.execute(path)
    targets = sorted(r.target_path for r in m.files())
    assert "morgana/sched.py" in targets and "_boot.py" in targets
    assert "netfront.py" in targets and "morgana/net/tcp.py" in targets
    assert len(targets) == len(mods)
    xl = build.xl_source(cfg)
    assert 'name = "www"' in xl and 'type = "pv"' in xl and "memory = 48" in xl
    assert 'kernel = "%s"' % os.path.join(cfg["build_dir"], "www.xen") in xl
    assert 'vif = [ "bridge=xenbr0" ]' in xl and 'on_crash = "destroy"' in xl
    assert "disk" not in xl


def test_xl_disk_for_fat(bdir):
    cfg = _configure(bdir, "xen-arm32", "FS=fat")
    xl = build.xl_source(cfg)
    assert ('disk = [ "format=raw, vdev=xvda, access=ro, target=%s" ]'
            % os.path.join(cfg["build_dir"], "kv.img")) in xl
    assert cfg["arch"] == "arm32"


def test_repl_and_hello_manifests_are_small(bdir):
    cfg = _configure(bdir, "xen-x86_64", cfgfile="configs/hello.py")
    mods = build.module_closure(cfg)
    # morgana.net only for its 20-line __init__ (the boot registers env.stack there);
    # lifecycle and xen.control + xenstore: every Xen image answers xl shutdown/reboot;
    # entropy: boot fills the pool before any device
    assert sorted(mods) == ["_boot", "app", "morgana", "morgana.boot", "morgana.entropy",
                            "morgana.lifecycle",
                            "morgana.logs", "morgana.net", "morgana.plat_xen", "morgana.sched",
                            "morgana.xen", "morgana.xen.bytering", "morgana.xen.control",
                            "morgana.xen.ring", "morgana.xen.xenstore"], sorted(mods)
