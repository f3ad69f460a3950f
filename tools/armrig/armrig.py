"""Boot Xen 4.17 (Debian armhf) on QEMU's emulated Cortex-A7 and watch the serial line.

Loading without firmware: QEMU's -kernel takes Xen's arm32 image (a zImage) and enters it in
Hyp mode with the DTB address in r2; every other blob goes into RAM with QEMU's generic
loader, and the edited DTB tells Xen where each one is.

  python3 tools/armrig/armrig.py dom0       Linux dom0 + busybox initramfs runs `xl info`
  python3 tools/armrig/armrig.py xlcreate   dom0 starts a Linux domU with `xl create`
  python3 tools/armrig/armrig.py dom0less   no dom0: Xen starts a Linux domU from the DTB
  python3 tools/armrig/armrig.py guest K PATTERN     dom0less with our own kernel image K
  python3 tools/armrig/armrig.py xlguest K PATTERN   dom0 starts image K with `xl create`
"""
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dtb  # noqa: E402
import initrd  # noqa: E402

TOP = os.path.dirname(os.path.dirname(HERE))
ROOT = initrd.ROOT
WORK = os.path.join(TOP, "build", "arm")
MACHINE = ["-machine", "virt,virtualization=on,gic-version=2", "-cpu", "cortex-a7",
           "-m", "1024", "-smp", "1"]
# RAM is 0x40000000..0x80000000. QEMU puts Xen at +64 KiB and its DTB at +128 MiB; Xen
# relocates itself to the top of RAM. Modules go from +256 MiB up, 16 MiB apart.
MODULE_BASE = 0x50000000
MODULE_STEP = 0x01000000
XEN_ARGS = "console=dtuart dtuart=/pl011@9000000 bootscrub=0 dom0_mem=384M"


def xen_image():
    return os.path.join(ROOT, "boot", "xen-4.17-armhf")


def linux_image():
    boot = os.path.join(ROOT, "boot")
    return os.path.join(boot, [f for f in os.listdir(boot) if f.startswith("vmlinuz-")][0])


def fetch():
    subprocess.run([os.path.join(HERE, "fetch.sh")], check=True)


class Layout:
    """Hands out load addresses for modules, one 16 MiB slot each (big ones take more)."""

    def __init__(self):
        self.next = MODULE_BASE
        self.loads = []

    def place(self, path):
        size = os.path.getsize(path)
        addr = self.next
        self.next += (size + MODULE_STEP - 1) // MODULE_STEP * MODULE_STEP
        self.loads.append((path, addr))
        return addr, size


def qemu_args(dtb_path, layout, extra=()):
    args = ["qemu-system-arm"] + MACHINE + list(extra) + [
        "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
        "-kernel", xen_image(), "-dtb", dtb_path]
    for path, addr in layout.loads:
        args += ["-device", "loader,file=%s,addr=0x%x,force-raw=on" % (path, addr)]
    return args


def make_dtb(name, layout, dom0=None, domus=()):
    """dom0: (kernel, initrd, bootargs) or None; domus: [(name, kernel, initrd|None, args, KiB)]."""
    os.makedirs(WORK, exist_ok=True)
    base = dtb.remove_top_node(dtb.dump_machine_dts(MACHINE, WORK), "pcie@")
    dom0_mods, dom0_args = [], None
    if dom0:
        k, rd, dom0_args = dom0
        dom0_mods.append(dtb.kernel(k, *layout.place(k)))
        if rd:
            dom0_mods.append(dtb.ramdisk(rd, *layout.place(rd)))
    nodes = []
    for dname, k, rd, args, kib in domus:
        mods = [dtb.kernel(k, *layout.place(k), bootargs=args)]
        if rd:
            mods.append(dtb.ramdisk(rd, *layout.place(rd)))
        nodes.append(dtb.DomU(dname, kib, mods))
    text = dtb.add_to_chosen(base, dtb.chosen_dts(XEN_ARGS, dom0_args, dom0_mods, nodes))
    with open(os.path.join(WORK, name + ".dts"), "w") as f:
        f.write(text)
    return dtb.compile_dts(text, os.path.join(WORK, name + ".dtb"))


def run(args, until, fail=(), timeout=170, log=None, answers=(), then=None):
    """Run QEMU; return (matched, seconds, text) once `until` appears on the serial line,
    a `fail` pattern appears, QEMU exits, or timeout passes. QEMU is always stopped.
    answers: [(pattern, bytes)] typed on the serial line once each, in order, when the
    pattern shows up (after the previous answer). then(text) runs once `until` matched,
    while the guest still runs; what it returns is appended to the text."""
    t0 = time.time()
    answers = list(answers)
    seen = 0  # where to look for the next answer's pattern
    p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, bufsize=0)
    os.set_blocking(p.stdout.fileno(), False)
    buf = b""
    matched = None
    try:
        while time.time() - t0 < timeout:
            chunk = p.stdout.read(65536)
            if chunk:
                buf += chunk
                if log:
                    log.write(chunk.decode("latin-1"))
                    log.flush()
                text = buf.decode("latin-1")
                if answers:
                    m = re.search(answers[0][0], text[seen:])
                    if m:
                        seen += m.end()
                        p.stdin.write(answers.pop(0)[1])
                if re.search(until, text):
                    matched = True
                    if then:
                        buf += ("\n" + then(text) + "\n").encode("latin-1", "replace")
                    break
                if any(re.search(f, text) for f in fail):
                    matched = False
                    break
            elif p.poll() is not None:
                break
            else:
                time.sleep(0.2)
    finally:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        buf += p.stdout.read() or b""
    return bool(matched), time.time() - t0, buf.decode("latin-1")


FAIL = [r"Panic on CPU", r"Kernel panic", r"\(XEN\) \*\*\*\*\*\*"]


def boot_dom0(extra_files=(), until="RIG-DOM0-DONE", timeout=170, log=None, modules=(),
              qemu_extra=(), then=None):
    fetch()
    rd = os.path.join(WORK, "dom0.cpio.gz")
    os.makedirs(WORK, exist_ok=True)
    initrd.build("dom0", rd, extra_files, modules=modules)
    lay = Layout()
    d = make_dtb("dom0", lay, dom0=(linux_image(), rd, "console=hvc0"))
    return run(qemu_args(d, lay, qemu_extra), until, FAIL, timeout, log, then=then)


# A guest network: QEMU's user-mode LAN (10.0.2.0/24, gateway 10.0.2.2) on a virtio NIC
# that dom0 bridges (xenbr0) with the guests' vifs; host port -> guest IP:port forwards.
NET_MODULES = ["virtio-mmio", "virtio-net", "bridge", "xen-netback"]


def free_port():
    """A loopback TCP port nobody listens on now (other test rigs share the machine)."""
    import socket
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return sk.getsockname()[1]


def user_net(forwards):
    fwd = "".join(",hostfwd=tcp:127.0.0.1:%d-%s:%d" % f for f in forwards)
    return ["-netdev", "user,id=n0" + fwd, "-device", "virtio-net-device,netdev=n0"]


def boot_xl_create(cfg_text, files, until, timeout=170, log=None, forwards=(), then=None):
    """dom0 runs `xl create` with cfg_text; files [(src, dest)] go into the dom0 initramfs
    (kernel images under guest/); returns once `domU: <until>` shows on the serial line."""
    fetch()
    os.makedirs(WORK, exist_ok=True)
    cfg = os.path.join(WORK, "guest.cfg")
    with open(cfg, "w") as f:
        f.write(cfg_text)
    pat = os.path.join(WORK, "guest.until")
    with open(pat, "w") as f:
        f.write(until)
    files = list(files) + [(os.path.join(HERE, "xl-create.sh"), "rig-run.sh"),
                           (cfg, "guest/guest.cfg"), (pat, "guest/until")]
    if then:  # the guest must outlive the console copy: dom0 waits
        files.append((pat, "guest/linger"))
    net = dict(modules=NET_MODULES, qemu_extra=user_net(forwards)) if forwards else {}
    return boot_dom0(files, until=r"domU: .*" + until, timeout=timeout, log=log, then=then, **net)


def boot_xl_create_linux(timeout=170, log=None):
    """dom0 starts a Linux domU with `xl create`; its console log shows the init's line."""
    fetch()
    domu_rd = os.path.join(WORK, "domu.cpio.gz")
    os.makedirs(WORK, exist_ok=True)
    initrd.build("domu", domu_rd)
    cfg = ('name = "linux"\nkernel = "/guest/vmlinuz"\nramdisk = "/guest/domu.cpio.gz"\n'
           'extra = "console=hvc0"\nmemory = 128\nvcpus = 1\n')
    return boot_xl_create(cfg, [(linux_image(), "guest/vmlinuz"), (domu_rd, "guest/domu.cpio.gz")],
                          "RIG-DOMU-LINUX-OK", timeout, log)


def boot_dom0less(kernel=None, args="console=ttyAMA0", until="RIG-DOMU-LINUX-OK",
                  timeout=170, log=None, mem_kib=131072):
    fetch()
    os.makedirs(WORK, exist_ok=True)
    rd = None
    if kernel is None:
        kernel = linux_image()
        rd = os.path.join(WORK, "domu.cpio.gz")
        initrd.build("domu", rd)
    lay = Layout()
    d = make_dtb("dom0less", lay, domus=[("domU1", kernel, rd, args, mem_kib)])
    return run(qemu_args(d, lay), until, FAIL, timeout, log)


UBOOT = "/usr/lib/u-boot/qemu_arm/u-boot.bin"  # Debian u-boot-qemu


def virt_board_dtb(out):
    """The virt machine's tree as a stand-in for a board's: PCIe dropped (see above) and a
    serial0 alias, which boot scripts name in Xen's dtuart= as on real boards."""
    text = dtb.remove_top_node(dtb.dump_machine_dts(MACHINE, WORK), "pcie@")
    text = text.replace("\tchosen {", '\taliases {\n\t\tserial0 = "/pl011@9000000";\n\t};\n\n\tchosen {', 1)
    return dtb.compile_dts(text, out)


def boot_uboot_disk(img, until, fdtfile, timeout=170, log=None, forwards=(), then=None):
    """U-Boot (qemu_arm) with img as a virtio disk and a virtio NIC: stop autoboot, then run
    the disk's first-partition boot.scr as distro_bootcmd would, with ${fdtfile} set."""
    os.makedirs(WORK, exist_ok=True)
    args = ["qemu-system-arm"] + MACHINE + [
        "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
        "-bios", UBOOT, "-drive", "if=none,file=%s,format=raw,id=sd" % img,
        "-device", "virtio-blk-device,drive=sd"] + user_net(forwards)
    cmd = ("setenv fdtfile %s; setenv devtype virtio; setenv devnum 0; setenv distro_bootpart 1;"
           " virtio scan; load virtio 0:1 ${scriptaddr} boot.scr && source ${scriptaddr}\n" % fdtfile)
    return run(args, until, FAIL, timeout, log,
               answers=[(r"Hit any key to stop autoboot", b"\n"), (r"=> ", cmd.encode())], then=then)


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "dom0"
    if what == "dom0":
        ok, secs, _ = boot_dom0(log=sys.stdout)
    elif what == "xlcreate":
        ok, secs, _ = boot_xl_create_linux(log=sys.stdout)
    elif what == "dom0less":
        ok, secs, _ = boot_dom0less(log=sys.stdout)
    elif what == "xlguest":
        cfg = 'name = "guest"\nkernel = "/guest/k"\nmemory = 32\nvcpus = 1\nextra = "via xl"\n'
        ok, secs, _ = boot_xl_create(cfg, [(sys.argv[2], "guest/k")], sys.argv[3], log=sys.stdout)
    elif what == "www":   # armrig.py www IMAGE: xl create with a vif, then GET / from the host
        import urllib.request
        cfg = ('name = "www"\nkernel = "/guest/k"\nmemory = 32\nvcpus = 1\n'
               'vif = [ "bridge=xenbr0" ]\n')

        port = free_port()

        def get(text):
            with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=30) as r:
                return "HTTP-GET %d %s" % (r.status, r.read(200))
        ok, secs, text = boot_xl_create(cfg, [(sys.argv[2], "guest/k")], "http: serving",
                                        log=sys.stdout, forwards=[(port, "10.0.2.15", 80)], then=get)
        print("\n".join(l for l in text.splitlines() if l.startswith("HTTP-GET")))
    elif what == "guest":
        ok, secs, _ = boot_dom0less(sys.argv[2], args="", until=sys.argv[3], log=sys.stdout)
    else:
        sys.exit(__doc__)
    print("\nrig: %s %s in %.1f s" % (what, "OK" if ok else "FAILED", secs))
    sys.exit(0 if ok else 1)
