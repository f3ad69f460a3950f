# FS=crunch with a 1 MiB file through `morgana build`: the Xen image builds (it used to
# fail with an opaque "Error 1": mpy-cross ran out of its 2 MiB heap, and one 1 MiB bytes
# constant then took mpy-tool 5 minutes), the unix target serves the file's exact bytes
# from the generated module, and a site too big for the guest is refused by name.
import hashlib
import os
import time

from cli_helpers import morgana

BIG = 1 << 20

APP = '''
def config(c):
    c.kv("site")


async def main(env):
    import hashlib
    import binascii
    kv = env.kv
    for name in kv.names():
        h = hashlib.sha256(await kv.read(name))
        print("FILE", name, await kv.size(name), binascii.hexlify(h.digest()).decode())
'''


def _site(tmp_path, size):
    root = tmp_path / "src"
    (root / "configs").mkdir(parents=True)
    (root / "configs" / "bigsite.py").write_text(APP)
    (root / "site").mkdir()
    data = os.urandom(size)
    (root / "site" / "big.bin").write_bytes(data)
    (root / "site" / "index.html").write_bytes(b"<p>hi</p>\n")
    return str(root / "configs" / "bigsite.py"), hashlib.sha256(data).hexdigest()


def test_xen_image_with_a_1mib_file_builds(bdir, tmp_path):
    cfg, _ = _site(tmp_path, BIG)
    morgana(bdir, "configure", cfg, "--target", "xen-x86_64", "FS=crunch")
    t0 = time.time()
    out = morgana(bdir, "build", timeout=600).stdout
    secs = time.time() - t0
    img = os.path.join(str(bdir), "bigsite", "bigsite.xen")
    print("\n%s\nbuilt a 1 MiB crunched site in %.1f s, image %d bytes"
          % (out, secs, os.path.getsize(img)))
    assert "crunch " in out and "2 files" in out
    assert BIG < os.path.getsize(img) < BIG + 1024 * 1024
    assert secs < 120, "freezing a 1 MiB file took %.0f s" % secs


def test_unix_target_serves_the_1mib_file_exactly(bdir, tmp_path):
    cfg, sha = _site(tmp_path, BIG)
    morgana(bdir, "configure", cfg, "--target", "unix-socket", "FS=crunch")
    morgana(bdir, "build")
    r = morgana(bdir, "run", "--python", "micropython", timeout=120)
    assert "FILE big.bin %d %s" % (BIG, sha) in r.stdout, r.stdout + r.stderr


def test_a_site_too_big_for_the_guest_is_refused_by_name(bdir, tmp_path):
    cfg, _ = _site(tmp_path, 3 * BIG)
    morgana(bdir, "configure", cfg, "--target", "xen-x86_64", "FS=crunch", "MEM=4")
    r = morgana(bdir, "build", check=False)
    assert r.returncode != 0
    msg = r.stdout + r.stderr
    assert "big.bin (3145728 bytes)" in msg, msg
    assert "4 MiB guest" in msg and "MEM=7" in msg and "FS=fat" in msg, msg
    assert "Error 1" not in msg, msg
