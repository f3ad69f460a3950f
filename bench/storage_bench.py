"""bench: durable 4 KiB writes/s and sequential MB/s of Morgana's blkfront (raw and through
littlefs) next to a Linux PV domU doing the same (raw, and ext4 with fsync: bench/sbench.c)
over the same blkback, one boot of the rig (Xen 4.17 + Linux dom0 in QEMU TCG; absolute
figures are an emulated machine's, the ratios are the point). Both guests' disks are
files in dom0's /tmp (loop devices under blkback).
    .cache/venv/bin/python bench/storage_bench.py"""
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'xen'))
from rig import XenRig, linux_domu_files, morgana_build, retarget_xl, xl_config  # noqa: E402

B = os.path.join(ROOT, 'build', 'bench-storage')
N, SEQ_MB = 200, 8
START = r'''#!/bin/sh
echo "sbench: fs $(grep -c ext4 /proc/filesystems)"
mkdir -p /mnt && mount -t ext4 /dev/xvdb /mnt || echo "sbench: ext4 mount failed"
/bin/sbench durable /dev/xvda %(n)d 4096
/bin/sbench seqw /dev/xvda %(c)d 65536
echo 3 > /proc/sys/vm/drop_caches
/bin/sbench seqr /dev/xvda %(c)d 65536
/bin/sbench durable /mnt/d %(n)d 4096
/bin/sbench seqw /mnt/big %(c)d 65536
echo 3 > /proc/sys/vm/drop_caches
/bin/sbench seqr /mnt/big %(c)d 65536
umount /mnt
echo "sbench: done"
''' % {'n': N, 'c': SEQ_MB * 16}


def main():
    os.makedirs(B, exist_ok=True)
    sb = os.path.join(B, 'sbench')
    subprocess.run(['gcc', '-static', '-O2', '-o', sb, os.path.join(ROOT, 'bench', 'sbench.c')],
                   check=True)
    ext4 = os.path.join(B, 'ext4.img')
    with open(ext4, 'wb') as f:
        f.truncate(32 << 20)
    subprocess.run(['mkfs.ext4', '-q', '-F', ext4], check=True)
    img = os.path.join(B, 'xentest_storage_bench', 'data.img')
    if os.path.exists(img):
        os.unlink(img)
    d = morgana_build('tests/xen/configs/xentest_storage_bench.py', B,
                      'N=%d' % N, 'SEQ_MB=%d' % SEQ_MB)
    with open(sb, 'rb') as f:
        sbench = f.read()
    files = linux_domu_files(overlay={'/bin/sbench': (sbench, 0o755),
                                      '/etc/rig/start': (START.encode(), 0o755)},
                             name='linux-sbench')
    files['/guest/linux.xl'] = xl_config(
        'linux', '/guest/vmlinux', memory=128, ramdisk='/guest/linux-sbench-initrd.gz',
        extra='console=hvc0 quiet rig.do=poweroff',
        disk=['file:/tmp/lraw.img,xvda,w', 'file:/tmp/lext4.img,xvdb,w']).encode()
    files['/guest/ext4.img'] = ext4
    files['/guest/mg.xen'] = os.path.join(d, 'xentest_storage_bench.xen')
    files['/guest/mg-data.img'] = img
    with open(os.path.join(d, 'xentest_storage_bench.xl')) as f:
        files['/guest/mg.xl'] = retarget_xl(
            f.read(), '/guest/mg.xen', name='mg', disk=[
                'format=raw,vdev=xvda,access=rw,target=/tmp/mg-data.img',
                'format=raw,vdev=xvdb,access=rw,target=/tmp/mraw.img']).encode()
    script = '''
dmesg -n 1
disk_image /tmp/lraw.img 32
disk_image /tmp/mraw.img 32
cp /guest/ext4.img /tmp/lext4.img
cp /guest/mg-data.img /tmp/mg-data.img
xl_create /guest/linux.xl
wait_console linux 'sbench: done' 900
xl destroy linux
show_console linux
xl_create /guest/mg.xl
wait_console mg 'bench done' 900
xl destroy mg
show_console mg
'''
    with XenRig().boot(files=files, script=script, name='bench_storage', timeout=2400) as s:
        s.wait()
        lin, mor = s.console('linux') or '', s.console('mg') or ''
    res = {}
    for m in re.finditer(r'sbench (\w+) (\S+) n=\d+ bs=\d+ s=[\d.]+ per_s=([\d.]+) '
                         r'MBps=([\d.]+)', lin):
        kind = ('raw-' if m.group(2) == '/dev/xvda' else 'ext4-') + m.group(1)
        res[kind] = (float(m.group(3)), float(m.group(4)))
    for m in re.finditer(r'bench ([\w-]+) n=\d+ bs=\d+ s=[\d.]+ per_s=([\d.]+) '
                         r'MBps=([\d.]+)', mor):
        res[m.group(1)] = (float(m.group(2)), float(m.group(3)))
    if 'bench done' not in mor or 'sbench: done' not in lin:
        print(lin[-3000:], mor[-3000:])
        raise SystemExit('a guest did not finish')
    print('%-34s %12s %12s %8s' % ('metric', 'morgana', 'linux', 'ratio'))
    rows = [('raw 4 KiB write+flush, writes/s', 'raw-durable', 'raw-durable', 0),
            ('raw seq write %d MiB, MB/s' % SEQ_MB, 'raw-seqw', 'raw-seqw', 1),
            ('raw seq read %d MiB, MB/s' % SEQ_MB, 'raw-seqr', 'raw-seqr', 1),
            ('fs 4 KiB durable write, per s', 'lfs-durable', 'ext4-durable', 0),
            ('fs seq write %d MiB, MB/s' % SEQ_MB, 'lfs-seqw', 'ext4-seqw', 1),
            ('fs seq read %d MiB, MB/s' % SEQ_MB, 'lfs-seqr', 'ext4-seqr', 1)]
    for label, mk, lk, col in rows:
        a, b = res[mk][col], res[lk][col]
        print('%-34s %12.2f %12.2f %8.2f' % (label, a, b, a / b if b else 0))
    print('(Morgana fs: littlefs kv put of 4 KiB; Linux fs: ext4, pwrite 4 KiB + fsync; '
          'flush op: %s)' % re.search(r'bench done flush=(\S+)', mor).group(1))


if __name__ == '__main__':
    main()
