"""Xen 4.17 in qemu-system-x86_64 (TCG), driven from CPython tests.

    rig = XenRig()
    with rig.boot(files={'/guest/hello.xen': 'build/hello/hello.xen',
                         '/guest/hello.xl': xl_config('hello', '/guest/hello.xen')},
                  script='xl_create /guest/hello.xl; wait_exit hello 30; show_console hello') as s:
        s.wait()
        assert 'hello' in s.console('hello') and s.exit_reason('hello') == 'poweroff'

boot() appends the test's files and its dom0 script (/ci.sh; helpers in
tools/xenrig/dom0/lib.sh) to the base dom0 initramfs built by tools/xenrig/setup.sh. dom0
powers off when the script ends (which ends QEMU), or with shell=True leaves a shell on the
serial console for Session.sh()/send(). boot_as_dom0() boots a kernel directly as Xen's dom0.
Logs (host-timestamped) go to build/xenrig/logs/NAME.log.
"""
import fcntl
import gzip
import os
import re
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpio  # noqa: E402
import session  # noqa: E402
from session import Session  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
XENDIR = os.path.join(ROOT, '.cache', 'xen')
OUTDIR = os.path.join(ROOT, 'build', 'xenrig')
SETUP = os.path.join(ROOT, 'tools', 'xenrig', 'setup.sh')

# -cpu max alone makes the PV dom0 fault at boot: Xen 4.17 PV guests and SMAP under TCG
# do not mix. AVX/AVX2 off: QEMU 7.2 is the first TCG with AVX, and dom0 programs (xl,
# busybox sed) segfaulted now and then on it; glibc then picks its SSE routines.
# One vCPU: the machine is shared and TCG is single-threaded per vCPU anyway.
QEMU = ['qemu-system-x86_64', '-accel', 'tcg', '-cpu', 'max,smap=off,avx=off,avx2=off',
        '-nodefaults', '-display', 'none', '-serial', 'stdio', '-monitor', 'none', '-no-reboot']
# spec-ctrl=eager-fpu: TCG's "max" CPU says AMD, so Xen defaults to lazy FPU switching
# (CR0.TS + #NM on a vCPU's first FPU/SSE use) and dom0 programs' heaps got corrupted now
# and then once a guest ran beside dom0: xl's forked child, or busybox sh, died in malloc
# (segfault, "corrupted double-linked list"), ~1 in 30 `xl create`s. With Xen saving and
# restoring FPU state at every vCPU switch it is gone: tests/xen/stress_dom0.py measured
# 7 crashed rounds in 182 (plus one hung xl) lazy, 2 in 150 lazy with -cpu ...,xsaveopt=off,
# 0 in 300 eager. (Likely TCG and #NM/CR0.TS, not XSAVE*; the ARM rig is unaffected.)
XEN_ARGS = ('console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all noreboot '
            'spec-ctrl=eager-fpu')

LINUX_DOMU = os.path.join(XENDIR, 'linux-domu')


def xl_config(name, kernel, memory=32, ramdisk=None, extra=None, vif=None, disk=None,
              preserve=True):
    """Text of an xl domain config for a PV guest.

    vif: list of xl vif specs (e.g. ['bridge=xenbr0,mac=00:16:3e:00:00:20']); disk: list of
    disk specs (e.g. ['file:/tmp/disk.img,xvda,w']). preserve keeps a shut-down or crashed
    domain around so wait_exit can read Xen's shutdown reason.
    """
    lines = ['name = "%s"' % name, 'type = "pv"', 'kernel = "%s"' % kernel,
             'memory = %d' % memory, 'vcpus = 1']
    if ramdisk:
        lines.append('ramdisk = "%s"' % ramdisk)
    if extra:
        lines.append('extra = "%s"' % extra)
    if vif:
        lines.append('vif = [ %s ]' % ', '.join("'%s'" % v for v in vif))
    if disk:
        lines.append('disk = [ %s ]' % ', '.join("'%s'" % d for d in disk))
    end = 'preserve' if preserve else 'destroy'
    lines += ['on_poweroff = "%s"' % end, 'on_crash = "%s"' % end, 'on_reboot = "destroy"']
    return '\n'.join(lines) + '\n'


def retarget_xl(text, kernel, **settings):
    """An existing .xl (e.g. from `morgana build`) with kernel= pointing inside dom0 and the
    given settings (python values rendered as xl values) replacing or adding lines."""
    settings['kernel'] = kernel
    keep = [l for l in text.splitlines()
            if l.split('=', 1)[0].strip() not in settings]
    for key, value in settings.items():
        if isinstance(value, (list, tuple)):
            value = '[ %s ]' % ', '.join("'%s'" % v for v in value)
        elif isinstance(value, str):
            value = '"%s"' % value
        keep.append('%s = %s' % (key, value))
    return '\n'.join(keep) + '\n'


def linux_domu_files(dest='/guest', overlay=None, name='linux'):
    """The Linux PV baseline guest's kernel and initramfs, for boot(files=...).

    overlay: {path in the domU: host path, bytes or (bytes, mode)} appended to its initramfs (e.g. a site
    in /www, or a program and an executable /etc/rig/start that its /init runs); the result
    is written as build/xenrig/NAME-initrd.gz and lands in dom0 as DEST/NAME-initrd.gz.
    """
    initrd = os.path.join(LINUX_DOMU, 'initrd.cpio.gz')
    if overlay:
        # One gzip stream: xl's domain builder inflates a gzip ramdisk itself and reads the
        # size from the last 4 bytes, so a raw archive after the gzip one would confuse it.
        with open(initrd, 'rb') as f:
            data = gzip.compress(with_archive(gzip.decompress(f.read()), overlay), 1)
        initrd = os.path.join(OUTDIR, name + '-initrd.gz')
        os.makedirs(OUTDIR, exist_ok=True)
        with open(initrd, 'wb') as f:
            f.write(data)
    return {dest + '/vmlinux': os.path.join(XENDIR, 'vmlinux'),
            dest + '/%s-initrd.gz' % name: initrd}


def with_archive(base, files):
    """An initramfs image `base` (bytes) followed by a cpio archive of `files` ({dest: host
    path, bytes, or (bytes, mode)}); Linux unpacks both, the later one winning."""
    payload = {}
    for dest, src in files.items():
        if isinstance(src, tuple):
            payload[dest] = src
        elif isinstance(src, (bytes, bytearray)):
            payload[dest] = (bytes(src), 0o644)
        else:
            with open(src, 'rb') as f:
                payload[dest] = (f.read(), os.stat(src).st_mode & 0o777)
    # Linux looks for the next archive at a 4-byte boundary after the gzip stream.
    return base + b'\0' * ((4 - len(base) % 4) % 4) + cpio.archive(payload)


def program_files(path, dest='/opt'):
    """A host program plus the shared libraries ldd finds for it, to run inside dom0 or
    a Linux domU (same glibc: both are built from this host's Debian). Returns
    ({guest path: host path}, command prefix), the program running as
    `LD_LIBRARY_PATH=DEST/NAME/lib DEST/NAME/bin/NAME`."""
    name = os.path.basename(path)
    top = '%s/%s' % (dest, name)
    files = {'%s/bin/%s' % (top, name): path}
    out = subprocess.run(['ldd', path], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        m = re.search(r'(\S*/(ld-linux[^ ]*))\s', line + ' ')
        if m and '=>' not in line:
            files['/lib64/' + m.group(2)] = os.path.realpath(m.group(1))
            continue
        m = re.search(r'=> (/\S+)', line)
        if m:
            files['%s/lib/%s' % (top, os.path.basename(m.group(1)))] = os.path.realpath(m.group(1))
    return files, 'LD_LIBRARY_PATH=%s/lib %s/bin/%s' % (top, top, name)


MORGANA = os.path.join(os.path.dirname(sys.executable), 'morgana')


def morgana_build(config, build_dir, *options, target='xen-x86_64'):
    """`morgana configure CONFIG --target TARGET OPTIONS...` then `morgana build` into
    build_dir; -> build_dir/NAME, which holds NAME.xen and NAME.xl. A failure raises
    RuntimeError with the tool's output."""
    name = os.path.splitext(os.path.basename(config))[0]
    for args in (['configure', config, '--target', target] + list(options), ['build', name]):
        r = subprocess.run([MORGANA, '-B', build_dir] + args, cwd=ROOT, capture_output=True,
                           text=True, timeout=900)
        if r.returncode:
            raise RuntimeError('morgana %s %s failed:\n%s%s'
                               % (args[0], config, r.stdout, r.stderr))
    return os.path.join(build_dir, name)


def _module(path, cmdline=''):
    # Multiboot modules are separated by ',' in QEMU's -initrd: a literal comma is doubled.
    return ('%s %s' % (os.path.abspath(path), cmdline)).strip().replace(',', ',,')


def free_port(udp=False):
    """A TCP port free on 127.0.0.1; with udp=True, free for UDP too (DNS serves both)."""
    if not udp:
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            return s.getsockname()[1]
    for _ in range(50):
        with socket.socket() as t, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            t.bind(('127.0.0.1', 0))
            p = t.getsockname()[1]
            try:
                u.bind(('127.0.0.1', p))
            except OSError:
                continue
            return p
    raise RuntimeError('no port free for both UDP and TCP')


class XenRig:
    def __init__(self, xendir=XENDIR, outdir=OUTDIR, setup=True):
        self.xendir = xendir
        self.outdir = outdir
        self.logdir = os.path.join(outdir, 'logs')
        os.makedirs(self.logdir, exist_ok=True)
        if setup:  # a few ms when everything is built already
            subprocess.run([SETUP, xendir], check=True)

    def _path(self, name):
        return os.path.join(self.xendir, name)

    def _lock(self):
        # One QEMU at a time on this shared machine, across processes: wait for the others.
        # Within this process waiting would be a deadlock: say so instead.
        for other in list(session.LIVE):
            if other.alive():
                raise RuntimeError('xenrig: this process still runs a rig QEMU (%s); close() '
                                   'that session first (e.g. a module-scoped fixture is only '
                                   'torn down at the end of its module)' % other.logpath)
        f = open(os.path.join(self.outdir, 'qemu.lock'), 'w')
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            sys.stderr.write('xenrig: waiting for another rig QEMU to finish (%s)\n' % f.name)
            fcntl.flock(f, fcntl.LOCK_EX)
        return f

    def _initrd(self, name, files, script, shell):
        files = dict(files or {})
        text = script or ''
        if shell:
            text += ("\nexport ENV=/usr/lib/xenrig/lib.sh PS1='dom0# '\nexec sh -i\n")
        if text:
            files['/ci.sh'] = (text.encode(), 0o755)
        with open(self._path('dom0.cpio.gz'), 'rb') as f:
            base = f.read()
        path = os.path.join(self.outdir, name + '.initrd')
        with open(path, 'wb') as f:
            f.write(with_archive(base, files))
        return path

    def boot(self, files=None, script=None, timeout=300, mem=512, hostfwd=(), net=None,
             shell=False, name='xen', dom0_args='', cpus=1):
        """Xen + Linux dom0 running `script` (busybox sh, lib.sh helpers loaded).

        files: {path in dom0: host path or bytes}. mem: dom0 MiB (guests get what QEMU has
        beyond that: 512 MiB more). hostfwd: [(host_port, guest_ip, guest_port[, 'udp'])]
        forwarded from 127.0.0.1 on the host (TCP unless 'udp' is given); net defaults to
        True when hostfwd is given. cpus: QEMU's CPUs (benchmarks give the load generator
        in dom0 and the guest one each; tests keep the default 1).
        """
        if net is None:
            net = bool(hostfwd)
        initrd = self._initrd(name, files, script, shell)
        dom0 = _module(self._path('vmlinux'), 'console=hvc0 earlyprintk=xen%s %s'
                       % (' xenrig.net' if net else '', dom0_args))
        xen = '%s dom0_mem=%dM,max:%dM dom0_max_vcpus=1' % (XEN_ARGS, mem, mem)
        cmd = QEMU + ['-smp', str(cpus), '-m', str(mem + 512), '-kernel', self._path('xen'),
                      '-append', xen,
                      '-initrd', dom0 + ',' + _module(initrd)]
        if net:
            # restrict=on: the guests reach nothing beyond QEMU's own user-mode network;
            # TCP forwards still work. UDP forwards do not: libslirp (4.7) then drops every
            # datagram from the guest side, the answers too (udp_input: `if
            # (slirp->restricted) goto bad`). A boot that asks for one gets restrict=off;
            # nothing in those boots starts traffic of its own (dom0 has no resolver, the
            # guests only answer), but they could reach out.
            protos = [f[3] if len(f) > 3 else 'tcp' for f in hostfwd]
            fwd = ''.join(',hostfwd=%s:127.0.0.1:%d-%s:%d' % ((p,) + tuple(f[:3]))
                          for p, f in zip(protos, hostfwd))
            restrict = 'off' if 'udp' in protos else 'on'
            cmd += ['-netdev', 'user,id=n0,net=10.0.2.0/24,restrict=%s' % restrict + fwd,
                    '-device', 'virtio-net-pci,netdev=n0']
        return Session(cmd, os.path.join(self.logdir, name + '.log'), timeout, self._lock())

    def boot_as_dom0(self, kernel, timeout=60, cmdline='', mem=64, name='dom0',
                     xen_args=''):
        """Boot `kernel` (a PV ELF) directly as dom0: no Linux, no toolstack. The session
        ends when Xen reports dom0 halted/crashed/rebooted (Session.dom0_exit)."""
        xen = '%s dom0_mem=%dM,max:%dM dom0_max_vcpus=1 %s' % (XEN_ARGS, mem, mem, xen_args)
        cmd = QEMU + ['-smp', '1', '-m', str(mem + 256), '-kernel', self._path('xen'),
                      '-append', xen,
                      '-initrd', _module(kernel, cmdline)]
        return Session(cmd, os.path.join(self.logdir, name + '.log'), timeout, self._lock())
