"""Build initramfs images (cpio 'newc', gzip) for the ARM rig without root or a staging tree.

Files come from the unpacked armhf packages (.cache/arm/root); shared libraries are found
by following DT_NEEDED with readelf, so the image holds exactly what its programs load.
Usage: initrd.py dom0|domu OUT.cpio.gz [EXTRA_SRC=DEST ...]
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
           "ifconfig ip nc wget printf").split()
XEN_BIN = "usr/lib/xen-4.17/bin"
DOM0_PROGS = [XEN_BIN + "/xl", XEN_BIN + "/xenstored", XEN_BIN + "/xenconsoled",
              XEN_BIN + "/xen-init-dom0", XEN_BIN + "/xenconsole",
              # dlopen()ed by glibc for pthread_cancel, so not in any DT_NEEDED
              "lib/arm-linux-gnueabihf/libgcc_s.so.1",
              "usr/bin/xenstore-write", "usr/bin/xenstore-read", "usr/bin/xenstore-ls"]
XEN_MODULES = ["xen-evtchn", "xen-privcmd", "xen-gntdev", "xen-gntalloc", "xenfs/xenfs"]


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


def base(c, init_script):
    c.file("bin/busybox", open(os.path.join(ROOT, "bin/busybox"), "rb").read())
    for a in APPLETS:
        c.symlink("bin/" + a, "busybox")
    for d in ("proc", "sys", "dev", "tmp", "run", "etc", "root", "sbin", "usr/bin", "usr/sbin"):
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    c.file("init", open(init_script, "rb").read())


def build(kind, out, extras=()):
    c = Cpio()
    base(c, os.path.join(HERE, kind + "-init.sh"))
    if kind == "dom0":
        add_programs(c, DOM0_PROGS)
        kver = os.listdir(os.path.join(ROOT, "lib/modules"))[0]
        for m in XEN_MODULES:
            add_real(c, "lib/modules/%s/kernel/drivers/xen/%s.ko" % (kver, m),
                     "lib/xen-modules/%s.ko" % os.path.basename(m))
        add_real(c, "etc/xen/xl.conf", "etc/xen/xl.conf")
        for d in ("var/lib/xen", "var/log/xen", "var/run/xen", "etc/xen", "proc/xen"):
            c.dir(d)
    for src, dest in extras:
        c.file(dest, open(src, "rb").read(), 0o755)
    data = c.bytes()
    with open(out, "wb") as f:
        f.write(data)
    return len(data)


if __name__ == "__main__":
    kind, out = sys.argv[1], sys.argv[2]
    extras = [a.split("=", 1) for a in sys.argv[3:]]
    print("%s: %d bytes" % (out, build(kind, out, extras)))
