"""The rig proven with a Linux PV domU (Debian's kernel, busybox, netfront, blkfront, httpd):
one Xen + Linux dom0 boot serves the console, keystroke, network, disk and exit checks,
in file order. (The kernel-as-dom0 fast path: test_rig_dom0.py.)"""
import os
import secrets
import sys
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from rig import free_port, linux_domu_files, xl_config  # noqa: E402

DOMU_IP = '10.0.2.20'


def linux_xl(name, do='shell', disk=True):
    return xl_config(name, '/guest/vmlinux', memory=128, ramdisk='/guest/linux-initrd.gz',
                     extra='console=hvc0 quiet rig.ip=%s rig.do=%s' % (DOMU_IP, do),
                     vif=['bridge=xenbr0,mac=00:16:3e:00:00:20'] if disk else None,
                     disk=['file:/tmp/disk.img,xvda,w'] if disk else None).encode()


@pytest.fixture(scope='module')
def linux(rig):
    """dom0 wrote token A at sector 0 of the domU's disk, created the domU and saw its httpd
    answer; then a dom0 shell waits on the serial console."""
    token_a, token_b = secrets.token_hex(6), secrets.token_hex(6)
    port = free_port()
    files = linux_domu_files()
    files['/guest/linux.xl'] = linux_xl('linux')
    files['/guest/crashy.xl'] = linux_xl('crashy', do='crash', disk=False)
    script = '''
disk_image /tmp/disk.img 4
printf 'A-%s' | dd of=/tmp/disk.img conv=notrunc 2>/dev/null
xl_create /guest/linux.xl
wait_console linux 'linux-domU: ready' 150
wait_http %s 80 60
''' % (token_a, DOMU_IP)
    s = rig.boot(files=files, script=script, name='test_rig', timeout=400, shell=True,
                 hostfwd=[(port, DOMU_IP, 80)])
    s.tokens = (token_a, token_b)
    s.port = port
    yield s
    s.close()


def test_domu_console_line_reaches_dom0(linux):
    linux.expect(r'@@ [\d.]+ console linux matched', 250)
    rc, out = linux.sh('show_console linux')
    assert rc == 0
    assert 'linux-domU: ready ip=10.0.2.20 do=shell' in out
    assert 'linux-domU: disk xvda 8192 sectors' in out   # the 4 MiB file, in 512 B sectors


def test_host_reaches_domu_httpd_through_dom0_bridge_and_hostfwd(linux):
    assert linux.find(r'@@ [\d.]+ http-200 ' + DOMU_IP)   # dom0 -> domU over xenbr0
    body = urllib.request.urlopen('http://127.0.0.1:%d/' % linux.port, timeout=30).read()
    assert body == b'hello from the Linux PV domU at 10.0.2.20\n'
    rc, out = linux.sh('ping -c 1 -W 5 ' + DOMU_IP)
    assert rc == 0 and '1 packets received' in out


def test_keystrokes_typed_into_xl_console(linux):
    linux.attach('linux')
    linux.send('echo $((6*7))-typed\n')    # the answer only exists if the domU shell ran it
    linux.expect(r'\n42-typed', 30)
    linux.detach()
    rc, out = linux.sh('echo back-in-dom0')
    assert rc == 0 and 'back-in-dom0' in out


def test_disk_both_ways_then_poweroff(linux):
    token_a, token_b = linux.tokens
    linux.attach('linux')
    linux.send('head -c 14 /dev/xvda | tr A Z; echo\n')   # tr: the echo alone cannot match
    linux.expect(r'\nZ-' + token_a, 30)
    linux.send("printf 'B-%s' | dd of=/dev/xvda bs=512 seek=1 conv=fsync && echo wr''ote\n"
               % token_b)
    linux.expect(r'\nwrote', 30)
    linux.send('poweroff -f\n')
    linux.expect(r'reboot: (System halted|Power down)', 30)
    linux.detach()
    rc, out = linux.sh('wait_exit linux 60', 90)
    assert '@@ exit linux poweroff' in out
    rc, out = linux.sh('dd if=/tmp/disk.img bs=512 skip=1 count=1 2>/dev/null | head -c 14 | tr B Y')
    assert 'Y-' + token_b in out


def test_crash_is_told_from_poweroff(linux):
    rc, out = linux.sh('xl_create /guest/crashy.xl && wait_exit crashy 150', 200)
    assert '@@ exit crashy crash' in out
    rc, out = linux.sh('show_console crashy')
    assert 'sysrq: Trigger a crash' in out

