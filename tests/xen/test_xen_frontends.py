"""The Python frontends on Xen 4.17 + Linux dom0 in QEMU (issue 5 acceptance), one boot:
xentest_xs (xenstore watch/transactions, dom0 writes a node the guest waits for),
xentest_blk (checksums of dom0-written / guest-written sectors and a 16 MiB sequential
write+read, compared with dom0's sha256sum of the backing file), www on netfront (ping
and HTTP from dom0, HTTP from the host through QEMU's port forward)."""
import os
import re
import sys
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from rig import free_port, morgana_build, xl_config  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BUILD = os.path.join(ROOT, 'build', 'xen-frontends')
IP = '10.0.2.50'


def build(config, *opts):
    name = os.path.basename(config)[:-3]
    return os.path.join(morgana_build(config, BUILD, *opts), name + '.xen')


@pytest.fixture(scope='module')
def run(rig):
    images = {'xs': build('tests/xen/configs/xentest_xs.py', 'DOM0_WAIT=60'),
              'blk': build('tests/xen/configs/xentest_blk.py'),
              'www': build('configs/www.py', 'DHCP=no', 'IP=' + IP, 'GATEWAY=10.0.2.2')}
    files = {'/guest/%s.xen' % k: v for k, v in images.items()}
    files['/guest/xs.xl'] = xl_config('xentest_xs', '/guest/xs.xen').encode()
    files['/guest/blk.xl'] = xl_config('xentest_blk', '/guest/blk.xen',
                                       disk=['file:/tmp/disk.img,xvda,w']).encode()
    files['/guest/www.xl'] = xl_config('www', '/guest/www.xen',
                                       vif=['bridge=xenbr0,mac=00:16:3e:00:00:50']).encode()
    script = r'''
xl_create /guest/xs.xl
wait_console xentest_xs "dom0-watch waiting" 120
D=$(xl domid xentest_xs)
xenstore-write /local/domain/$D/data/xentest/from-dom0 hello-from-dom0
wait_exit xentest_xs 120
echo "DOM0 xs-counter $(xenstore-read /local/domain/$D/data/xentest/counter)"
show_console xentest_xs
# the image must be whole before blkback sizes it (once it was seen at 20000 sectors)
for try in 1 2 3; do
  disk_image /tmp/disk.img 24; sync
  [ "$(stat -c %%s /tmp/disk.img)" = 25165824 ] && break
  echo "DOM0 disk image short: $(stat -c %%s /tmp/disk.img) bytes, again"
done
dd if=/dev/urandom of=/tmp/disk.img bs=512 count=128 conv=notrunc 2>/dev/null
echo "DOM0 dom0-read $(dd if=/tmp/disk.img bs=512 count=128 2>/dev/null | sha256sum)"
xl_create /guest/blk.xl
echo "DOM0 backing $(stat -c %%s /tmp/disk.img) bytes; loop $(cat /sys/block/loop0/size 2>/dev/null) sectors"
wait_exit xentest_blk 300
echo "DOM0 wrote $(dd if=/tmp/disk.img bs=512 skip=2048 count=128 2>/dev/null | sha256sum)"
echo "DOM0 seq $(dd if=/tmp/disk.img bs=512 skip=4096 count=32768 2>/dev/null | sha256sum)"
show_console xentest_blk
xl_create /guest/www.xl
wait_console www "network up" 120
ping -c 5 -W 2 %s
wait_http %s 80 60
host_wait curl
show_console www
''' % (IP, IP)
    port = free_port()
    s = rig.boot(files=files, script=script, name='xen_frontends', timeout=900,
                 hostfwd=[(port, IP, 80)])
    s.expect(r'host-wait curl', timeout=800)
    s.host_body = urllib.request.urlopen('http://127.0.0.1:%d/index.html' % port,
                                         timeout=30).read()
    s.release()
    s.wait()
    yield s
    s.close()


def dom0(s, key):
    m = re.search(r'DOM0 %s (\S+)' % key, s.log)
    assert m, key
    return m.group(1)


def guest(con, prefix, key, field):
    m = re.search(r'%s: %s .*\b%s=(\S+)' % (prefix, key, field), con)
    assert m, (key, field, con)
    return m.group(1)


def test_xenstore_watches_and_transactions(run):
    con = run.console('xentest_xs')
    for key in ('rw', 'errors', 'watch', 'tx'):
        assert guest(con, 'xentest-xs', key, 'ok') == '1', key
    assert 'dom0-watch ok=1 value=hello-from-dom0' in con
    assert 'xentest-xs: done ok' in con
    assert dom0(run, 'xs-counter') == '5'            # every transaction committed once
    assert run.exit_reason('xentest_xs') == 'poweroff'


def test_blkfront_checksums_match_dom0(run):
    con = run.console('xentest_blk')
    assert guest(con, 'xentest-blk', 'dom0-read', 'sha256') == dom0(run, 'dom0-read')
    assert guest(con, 'xentest-blk', 'wrote', 'sha256') == dom0(run, 'wrote')
    assert guest(con, 'xentest-blk', 'seq-write', 'sha256') == dom0(run, 'seq')
    assert guest(con, 'xentest-blk', 'seq-read', 'sha256') == dom0(run, 'seq')
    assert guest(con, 'xentest-blk', 'seq-read', 'bytes') == str(16 << 20)
    assert 'xentest-blk: done ok' in con
    assert run.exit_reason('xentest_blk') == 'poweroff'


def test_netfront_ping_and_tcp_from_dom0_and_host(run):
    assert re.search(r'5 packets transmitted, 5 packets received', run.log)
    assert re.search(r'@@ [\d.]+ http-200 ' + IP, run.log)
    assert run.host_body.startswith(b'<!DOCTYPE html>') or b'<html' in run.host_body
    assert '"GET /index.html" 200' in run.console('www')
