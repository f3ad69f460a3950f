"""bench: Morgana's netfront and blkfront against a Linux PV domU on the same rig
(Xen 4.17 + Linux dom0 in QEMU TCG), printed as ratios (Morgana / Linux; for RTT lower
is better, for MB/s higher is better). Needs the images built by
tests/xen/test_xen_frontends.py (build/xen-frontends/{www,xentest_blk}) and the rig.
    .cache/venv/bin/python bench/bench_frontends.py"""
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'xen'))
from rig import XenRig, linux_domu_files, xl_config  # noqa: E402

B = os.path.join(ROOT, 'build', 'xen-frontends')
LINUX_IP, MORGANA_IP = '10.0.2.20', '10.0.2.50'
MB = 16


def main():
    files = linux_domu_files()
    files['/guest/linux.xl'] = xl_config(
        'linux', '/guest/vmlinux', memory=128, ramdisk='/guest/linux-initrd.gz',
        extra='console=hvc0 quiet rig.ip=%s rig.do=shell' % LINUX_IP,
        vif=['bridge=xenbr0,mac=00:16:3e:00:00:20'],
        disk=['file:/tmp/ldisk.img,xvda,w']).encode()
    files['/guest/www.xen'] = os.path.join(B, 'www', 'www.xen')
    files['/guest/www.xl'] = xl_config('www', '/guest/www.xen',
                                       vif=['bridge=xenbr0,mac=00:16:3e:00:00:50']).encode()
    files['/guest/blk.xen'] = os.path.join(B, 'xentest_blk', 'xentest_blk.xen')
    files['/guest/blk.xl'] = xl_config('xentest_blk', '/guest/blk.xen',
                                       disk=['file:/tmp/disk.img,xvda,w']).encode()
    script = '''
disk_image /tmp/ldisk.img 24
disk_image /tmp/disk.img 24
xl_create /guest/linux.xl
wait_console linux 'linux-domU: ready' 150
xl_create /guest/www.xl
wait_console www 'network up' 120
'''
    with XenRig().boot(files=files, script=script, name='bench_frontends', timeout=900,
                       shell=True) as s:
        s.sh('true', timeout=400)      # the setup script is done: dom0's prompt
        rtt = {}
        for name, ip in (('linux', LINUX_IP), ('morgana', MORGANA_IP)):
            s.sh('ping -c 3 -W 2 %s' % ip, timeout=30)            # ARP, warm up
            rc, out = s.sh('ping -c 20 -i 0.2 %s | tail -1' % ip, timeout=60)
            rtt[name] = float(re.search(r'= [\d.]+/([\d.]+)/', out).group(1))
        # before `xl console`: dom0's shell once died after a detach (busybox line editing)
        rc, out = s.sh('xl_create /guest/blk.xl; wait_exit xentest_blk 300; '
                       'show_console xentest_blk', timeout=400)
        mor = {'write': float(re.search(r'seq-write .*MBps=([\d.]+)', out).group(1)),
               'read': float(re.search(r'seq-read .*MBps=([\d.]+)', out).group(1))}
        s.attach('linux')
        s.send('\n')
        lin = {}
        for kind, cmd in (('write', 'dd if=/dev/zero of=/dev/xvda bs=256k count=%d conv=fsync'
                           % (MB * 4)),
                          ('read', 'echo 3 > /proc/sys/vm/drop_caches; '
                           'dd if=/dev/xvda of=/dev/null bs=256k count=%d' % (MB * 4))):
            s.send("a=$(cut -d' ' -f1 /proc/uptime); %s 2>/dev/null; "
                   "b=$(cut -d' ' -f1 /proc/uptime); echo BENCH\"\"%s $a $b\n" % (cmd, kind))
            m = s.expect(r'BENCH%s ([\d.]+) ([\d.]+)' % kind, timeout=300)
            lin[kind] = MB * 1.048576 / max(float(m.group(2)) - float(m.group(1)), 0.01)
        s.detach()
    print('%-28s %10s %10s %8s' % ('metric', 'morgana', 'linux', 'ratio'))
    print('%-28s %10.2f %10.2f %8.2f' % ('ping RTT avg, ms (dom0->domU)', rtt['morgana'],
                                         rtt['linux'], rtt['morgana'] / rtt['linux']))
    for kind in ('write', 'read'):
        print('%-28s %10.2f %10.2f %8.2f' % ('blk %d MiB seq %s, MB/s' % (MB, kind),
                                             mor[kind], lin[kind], mor[kind] / lin[kind]))


if __name__ == '__main__':
    main()
