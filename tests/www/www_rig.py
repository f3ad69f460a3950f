# Integration rig for the www tests: builds the test site (tests/www/site plus generated
# binary, big, unicode-named and deep files), packs it as a crunch module or a FAT16 /
# FAT32 image (Debian's dosfstools + mtools, as a user would), and starts the server on
# CPython or MicroPython on a free loopback port.
import os
import random
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
MICROPYTHON = os.path.join(TOP, "build", "unix", "micropython")
PY = sys.executable


def make_logo(path):
    # a deterministic PNG (gradient + shapes) for the page
    from PIL import Image, ImageDraw
    im = Image.new("RGB", (160, 120))
    px = im.load()
    for y in range(120):
        for x in range(160):
            px[x, y] = (x * 255 // 159, y * 255 // 119, 160)
    d = ImageDraw.Draw(im)
    d.ellipse((40, 20, 120, 100), fill=(255, 220, 0), outline=(0, 0, 0), width=3)
    d.rectangle((10, 90, 60, 110), fill=(20, 120, 40))
    im.save(path, "PNG")


def build_site(dst, base=None):
    """Copy base (default tests/www/site) to dst and add generated files; returns dst."""
    shutil.copytree(base or os.path.join(HERE, "site"), dst)
    os.makedirs(os.path.join(dst, "img"), exist_ok=True)
    make_logo(os.path.join(dst, "img", "logo.png"))
    rnd = random.Random(6)
    with open(os.path.join(dst, "big.bin"), "wb") as f:
        f.write(bytes(rnd.getrandbits(8) for _ in range(1 << 20)))
    uni = os.path.join(dst, "dir with space")
    os.makedirs(uni, exist_ok=True)
    with open(os.path.join(uni, "\u00fcn\u00efc\u00f6de file.txt"), "wb") as f:
        f.write("h\u00e9llo w\u00f6rld\n".encode())
    deep = os.path.join(dst, "a", "b", "c", "d")
    os.makedirs(deep, exist_ok=True)
    with open(os.path.join(deep, "deep.json"), "wb") as f:
        f.write(b'{"deep": true}\n')
    open(os.path.join(dst, "empty.txt"), "wb").close()
    return dst


def site_files(root):
    """{url path relative to root: bytes} of every file, as the servers should see it."""
    out = {}
    for d, dirs, files in os.walk(root):
        for fn in files:
            p = os.path.join(d, fn)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root).replace(os.sep, "/")] = f.read()
    return out


def run(cmd, **kw):
    env = dict(os.environ, LC_ALL="C.UTF-8", MTOOLS_SKIP_CHECK="1",
               PYTHONPATH=os.path.join(TOP, "pylib"))
    return subprocess.run(cmd, check=True, capture_output=True, env=env, **kw)


def make_fat(site, img, bits):
    """FAT16/FAT32 image of site with mkfs.fat + mcopy (long names, mtimes kept)."""
    if os.path.exists(img):
        os.unlink(img)
    kb = 32 * 1024 if bits == 16 else 64 * 1024
    args = ["mkfs.fat", "-C", "-F", str(bits), "-n", "MORGANA"]
    if bits == 32:
        args += ["-s", "1"]            # 512-byte clusters: enough of them for FAT32
    run(args + [img, str(kb)])
    entries = [os.path.join(site, e) for e in sorted(os.listdir(site))]
    run(["mcopy", "-s", "-m", "-i", img] + entries + ["::/"])
    return img


def make_crunch(site, outdir, modname="_htdocs"):
    os.makedirs(outdir, exist_ok=True)
    # through the command line, as `morgana build` would run it
    run([PY, "-m", "morgana.host.crunch", site, os.path.join(outdir, modname + ".py")], cwd=TOP)
    return outdir, modname


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Server:
    """serve_site.py in a subprocess; .port, .stop()."""

    def __init__(self, python, args):
        self.port = free_port()
        env = dict(os.environ)
        if python == "micropython":
            cmd = [MICROPYTHON, "-X", "heapsize=64M"]
            env["MICROPYPATH"] = os.path.join(TOP, "pylib")
        else:
            cmd = [PY]
            env["PYTHONPATH"] = os.path.join(TOP, "pylib")
        cmd += [os.path.join(HERE, "serve_site.py")] + list(args) + [str(self.port)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=env)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("READY"):
            rest = self.proc.stdout.read(4000).decode() if self.proc.poll() is not None \
                else ""
            self.stop()
            raise RuntimeError("server did not start: %r %s" % (line, rest))
        self.url = "http://127.0.0.1:%d/" % self.port

    def stop(self):
        stop_process(self.proc)


def stop_process(proc, grace=5):
    """Terminate proc, kill it if it is still there after grace seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start(kind, python, site, tmp):
    """kind: crunch | fat16 | fat32."""
    if kind == "crunch":
        d, mod = make_crunch(site, os.path.join(tmp, "crunch"))
        return Server(python, ["crunch", d, mod])
    bits = int(kind[3:])
    img = make_fat(site, os.path.join(tmp, "site%d.img" % bits), bits)
    return Server(python, ["fat", img])


def wait_port(port, timeout=10.0):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listening on %d" % port)
