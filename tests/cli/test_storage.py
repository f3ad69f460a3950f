# c.storage: `morgana build` makes and formats the littlefs image once, keeps it after,
# refuses a foreign, corrupted or resized one with a message naming it; the xl file gets
# a rw disk; the generated boot mounts it as env.storage/env.stores; the devices check.
import json
import os

import pytest

from cli_helpers import morgana
from morgana import sched
from morgana.host import build
from morgana.host import config
from morgana.host.config import ConfigError
from morgana.store import blk_file, kv_lfs, storage

APP = """
def config(c):
    c.storage("data", size_mib=%d)

async def main(env):
    kv = env.stores["data"]
    n = int((await kv.get("count")) or b"0") + 1
    await kv.put("count", str(n).encode())
    await kv.put("log/%%d" %% n, b"")
    print("COUNT", n, await env.storage["data"].listdir("log"))
"""


def _proj(tmp_path, size=1, text=APP):
    d = tmp_path / "proj" / "configs"
    d.mkdir(parents=True, exist_ok=True)
    p = d / "vol.py"
    p.write_text(text % size if "%d" in text else text)
    return str(p)


def _img(bdir):
    return os.path.join(str(bdir), "vol", "data.img")


def test_build_formats_once_then_keeps_and_run_mounts(tmp_path, bdir):
    p = _proj(tmp_path)
    morgana(bdir, "configure", p, "--target", "unix-socket")
    out = morgana(bdir, "build").stdout
    assert "formatted" in out and os.path.getsize(_img(bdir)) == 1 << 20
    outs = []
    for _ in range(2):
        outs.append(morgana(bdir, "run").stdout)
        out = morgana(bdir, "build").stdout
        assert "kept" in out and "formatted" not in out, out
    assert "COUNT 1 ['1']" in outs[0] and "COUNT 2 ['1', '2']" in outs[1], outs
    dev = blk_file.BlockFile(_img(bdir))            # the host reads what the guest wrote
    kv = sched.run(kv_lfs.open_kv(dev))
    assert sched.run(kv.get("count")) == b"2"
    dev.close()
    morgana(bdir, "clean")
    assert os.path.exists(_img(bdir)) and not os.path.exists(
        os.path.join(str(bdir), "vol", "_boot.py"))


def test_foreign_or_corrupt_image_is_refused_not_reformatted(tmp_path, bdir):
    p = _proj(tmp_path)
    morgana(bdir, "configure", p, "--target", "unix-socket")
    junk = b"\xde\xad\xbe\xef" * (1 << 18)          # 1 MiB, no littlefs in it
    with open(_img(bdir), "wb") as f:
        f.write(junk)
    r = morgana(bdir, "build", check=False)
    assert r.returncode != 0 and "storage 'data'" in r.stdout + r.stderr
    assert "not a usable littlefs volume" in r.stdout + r.stderr, r.stdout + r.stderr
    with open(_img(bdir), "rb") as f:
        assert f.read() == junk                     # untouched
    # the guest refuses it the same way (an image changed after the build)
    morgana(bdir, "build", check=False)
    r = morgana(bdir, "run", check=False)
    assert r.returncode != 0 and "not a usable littlefs volume" in r.stdout + r.stderr


def test_resized_config_is_refused(tmp_path, bdir):
    morgana(bdir, "configure", _proj(tmp_path, 1), "--target", "unix-socket")
    morgana(bdir, "build")
    morgana(bdir, "configure", _proj(tmp_path, 2), "--target", "unix-socket")
    r = morgana(bdir, "build", check=False)
    assert r.returncode != 0 and "not resizing" in r.stdout + r.stderr
    assert os.path.getsize(_img(bdir)) == 1 << 20


def test_xl_has_a_rw_disk_and_boot_mounts(tmp_path, bdir):
    morgana(bdir, "configure", _proj(tmp_path), "--target", "xen-x86_64")
    with open(os.path.join(str(bdir), "vol", "config.json")) as f:
        cfg = json.load(f)
    xl = build.xl_source(cfg)
    assert ('disk = [ "format=raw, vdev=xvda, access=rw, target=%s" ]' % _img(bdir)) in xl
    with open(os.path.join(str(bdir), "vol", "_boot.py")) as f:
        boot = f.read()
    assert "blkfront.connect(51712)" in boot and "storage.open_storage('data', blk)" in boot
    mods = build.module_closure(cfg)
    assert "morgana.store.lfs" in mods and "morgana.store.blk_file" not in mods
    assert not any(m.startswith("morgana.host") for m in mods)


def test_bad_declarations_and_device_check(tmp_path):
    for decl, msg in (('c.storage("Bad!")', "must be lower-case"),
                      ('c.storage("d", size_mib=0)', "size_mib 0"),
                      ('c.storage("d", block_size=3000)', "block_size 3000"),
                      ('c.storage("d"); c.storage("d")', "taken")):
        p = _proj(tmp_path, text="def config(c):\n    %s\nasync def main(env):\n    pass\n"
                  % decl)
        with pytest.raises(ConfigError, match=msg):
            config.load(p, "unix-socket")
    p = _proj(tmp_path, text="def config(c):\n    pass\nasync def main(env):\n"
              "    return env.stores['data']\n")
    with pytest.raises(ConfigError, match=r"c\.storage"):
        config.load(p, "unix-socket")


def test_open_storage_names_the_volume():
    from morgana.store import blk_ram
    try:
        sched.run(storage.open_storage("data", blk_ram.BlockRAM(64)))
        raise AssertionError("mounted an empty disk")
    except storage.StorageError as e:
        assert "storage 'data'" in str(e) and "never reformatted" in str(e), e
    try:
        sched.run(storage.open_storage("data", blk_ram.BlockRAM(64, read_only=True)))
        raise AssertionError("accepted a read-only disk")
    except storage.StorageError as e:
        assert "read-only" in str(e)
