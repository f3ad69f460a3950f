"""Build initramfs images (cpio 'newc', gzip) for the ARM rig without root or a staging tree.

Files come from the unpacked armhf packages (.cache/arm/root); shared libraries are found
by following DT_NEEDED with readelf, so the image holds exactly what its programs load.
Usage: initrd.py dom0|domu OUT.cpio.gz [--init FILE] [--modules a,b] [EXTRA_SRC=DEST ...]
"""
import gzip
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
ROOT = os.path.join(TOP, ".cache", "arm", "root")
LIBDIRS = ["lib/arm-linux-gnueabihf", "usr/lib/arm-linux-gnueabihf"]
APPLETS = ("sh mount umount insmod mkdir echo cat sleep poweroff reboot ls uname dmesg "
           "grep sed head tail ps kill mknod ln rm cp seq true false test [ wc tr date "
           "ifconfig ip nc wget printf brctl udhcpc setsid cttyhack env").split()
XEN_BIN = "usr/lib/xen-4.17/bin"
DOM0_PROGS = [XEN_BIN + "/xl", XEN_BIN + "/xenstored", XEN_BIN + "/xenconsoled",
              XEN_BIN + "/xen-init-dom0", XEN_BIN + "/xenconsole",
              # dlopen()ed by glibc for pthread_cancel, so not in any DT_NEEDED
              "lib/arm-linux-gnueabihf/libgcc_s.so.1",
              "usr/bin/xenstore-write", "usr/bin/xenstore-read", "usr/bin/xenstore-ls"]
# Linux modules by name; their `depends=` are added first. init insmods lib/rig-modules/order.
XEN_MODULES = ["xen-evtchn", "xen-privcmd", "xen-gntdev", "xen-gntalloc", "xenfs"]
NET_MODULES = ["bridge", "xen-netback"]


class Cpio:
    """newc writer: every entry owned by root, device nodes made without mknod."""

    def __init__(self):
        self.out = bytearray()
        self.ino = 1
        self.seen = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        hdr = "070701" + "".join("%08x" % v for v in (
            self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0))
        self.ino += 1
        self.out += hdr.encode() + name.encode() + b"\0"
        self.out += b"\0" * (-len(self.out) % 4) + data
        self.out += b"\0" * (-len(self.out) % 4)

    def dir(self, path):
        parts = path.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            p = "/".join(parts[:i])
            if p and p not in self.seen:
                self.seen.add(p)
                self._entry(p, 0o040755)

    def file(self, path, data, mode=0o755):
        path = path.strip("/")
        self.dir(os.path.dirname(path))
        if path not in self.seen:
            self.seen.add(path)
            self._entry(path, 0o100000 | mode, data)

    def symlink(self, path, target):
        path = path.strip("/")
        self.dir(os.path.dirname(path))
        if path not in self.seen:
            self.seen.add(path)
            self._entry(path, 0o120777, target.encode())

    def chardev(self, path, major, minor):
        self.dir(os.path.dirname(path))
        self.seen.add(path)
        self._entry(path.strip("/"), 0o020600, rdev=(major, minor))

    def bytes(self):
        self._entry("TRAILER!!!", 0)
        return gzip.compress(bytes(self.out), 6)


def needed(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def find_lib(name):
    for d in LIBDIRS:
        if os.path.exists(os.path.join(ROOT, d, name)):
            return d + "/" + name
    raise FileNotFoundError("armhf library %s not unpacked (add its package to fetch.sh)" % name)


def add_real(c, rel, dest=None):
    """Add a file from ROOT, resolving symlinks (libraries are symlink chains)."""
    real = os.path.realpath(os.path.join(ROOT, rel))
    with open(real, "rb") as f:
        c.file(dest or rel, f.read(), os.stat(real).st_mode & 0o777)


def add_programs(c, progs):
    todo, done = list(progs), set()
    while todo:
        rel = todo.pop()
        if rel in done:
            continue
        done.add(rel)
        add_real(c, rel)
        todo += [find_lib(n) for n in needed(os.path.join(ROOT, rel))]
    # The dynamic loader is looked up by absolute path.
    c.symlink("lib/ld-linux-armhf.so.3", "arm-linux-gnueabihf/ld-linux-armhf.so.3")


def _module_index():
    kver = os.listdir(os.path.join(ROOT, "lib/modules"))[0]
    top = os.path.join(ROOT, "lib/modules", kver)
    index = {}
    for d, _, files in os.walk(top):
        for f in files:
            if f.endswith(".ko"):
                index[f[:-3].replace("_", "-")] = os.path.relpath(os.path.join(d, f), ROOT)
    return index


def module_depends(path):
    """The `depends=` entry of a module's .modinfo section (NUL-separated strings)."""
    data = open(os.path.join(ROOT, path), "rb").read()
    m = re.search(rb"\0depends=([^\0]*)\0", data)
    return [d.decode().replace("_", "-") for d in m.group(1).split(b",") if d] if m else []


def add_modules(c, names):
    index, order = _module_index(), []

    def visit(n):
        n = n.replace("_", "-")
        if n in order:
            return
        if n not in index:
            raise FileNotFoundError("kernel module %s not in the unpacked kernel" % n)
        for d in module_depends(index[n]):
            visit(d)
        order.append(n)
    for n in names:
        visit(n)
    for n in order:
        add_real(c, index[n], "lib/rig-modules/%s.ko" % n)
    c.file("lib/rig-modules/order", ("\n".join(order) + "\n").encode(), 0o644)
    return order


def base(c, init_script):
    c.file("bin/busybox", open(os.path.join(ROOT, "bin/busybox"), "rb").read())
    for a in APPLETS:
        c.symlink("bin/" + a, "busybox")
    for d in ("proc", "sys", "dev", "tmp", "run", "etc", "root", "sbin", "usr/bin", "usr/sbin"):
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    c.file("init", open(init_script, "rb").read())


def build(kind, out, extras=(), init=None, modules=()):
    """kind 'dom0': xl toolstack + Xen modules (+ `modules`); 'domu': busybox only.
    init: the /init script (default KIND-init.sh here); extras: [(src, dest)]."""
    c = Cpio()
    base(c, init or os.path.join(HERE, kind + "-init.sh"))
    if kind == "dom0":
        add_programs(c, DOM0_PROGS)
        add_modules(c, XEN_MODULES + list(modules))
        add_real(c, "etc/xen/xl.conf", "etc/xen/xl.conf")
        c.file("etc/xen/scripts/vif-bridge", open(os.path.join(HERE, "vif-bridge.sh"), "rb").read())
        for d in ("var/lib/xen", "var/log/xen", "var/run/xen", "etc/xen", "proc/xen"):
            c.dir(d)
    for src, dest in extras:
        c.file(dest, open(src, "rb").read(), 0o755)
    data = c.bytes()
    with open(out, "wb") as f:
        f.write(data)
    return len(data)


if __name__ == "__main__":
    kind, out, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    init, mods, extras = None, [], []
    while rest:
        a = rest.pop(0)
        if a == "--init":
            init = rest.pop(0)
        elif a == "--modules":
            mods = [m for m in rest.pop(0).split(",") if m]
        else:
            extras.append(a.split("=", 1))
    print("%s: %d bytes" % (out, build(kind, out, extras, init, mods)))
