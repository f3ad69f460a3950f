#!/usr/bin/env python3
"""Boot time of Xen PV guests under Xen 4.17 in QEMU TCG: from the start of `xl create` to
(1) `xl create` returning, (2) the guest's first console line, (3) the first HTTP 200 that
dom0 gets from the guest's port 80 over xenbr0. All guests run in one Xen + dom0 boot,
one after the other, RUNS times each; the table shows medians (seconds, dom0's clock).

usage: bench/boot_time.py [--runs N] GUEST...
  GUEST = linux                 the Linux PV baseline (Debian kernel + busybox httpd)
        | KERNEL[@IP]           a PV kernel image, e.g. build/www/www.xen@10.0.2.20; its
                                .xl next to it (same stem) gives memory/extra if present;
                                without @IP the HTTP column is skipped
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'xen'))
from rig import XenRig, linux_domu_files, retarget_xl, xl_config  # noqa: E402

MAC = '00:16:3e:00:00:20'


def guest_spec(arg, index):
    """-> (label, ip, {dest: src} files, xl text builder taking the domain name)"""
    if arg == 'linux':
        ip = '10.0.2.20'
        files = linux_domu_files()

        def xl(name):
            return xl_config(name, '/guest/vmlinux', memory=128, ramdisk='/guest/linux-initrd.gz',
                             extra='console=hvc0 quiet rig.ip=%s' % ip,
                             vif=['bridge=xenbr0,mac=' + MAC], preserve=False)
        return 'linux', ip, files, xl
    path, _, ip = arg.partition('@')
    dest = '/guest/k%d-%s' % (index, os.path.basename(path))
    stem = os.path.splitext(path)[0]
    base = open(stem + '.xl').read() if os.path.exists(stem + '.xl') else 'memory = 32\n'

    def xl(name):
        return retarget_xl(base, dest, name=name, type='pv', vif=['bridge=xenbr0,mac=' + MAC],
                           on_poweroff='destroy', on_crash='destroy')
    return os.path.basename(stem), ip, {dest: path}, xl


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('guests', nargs='+')
    args = ap.parse_args()

    files, script, plan = {}, [], []
    for gi, arg in enumerate(args.guests):
        label, ip, gfiles, xl = guest_spec(arg, gi)
        files.update(gfiles)
        for run in range(args.runs):
            name = 'g%dr%d' % (gi, run)
            files['/guest/%s.xl' % name] = xl(name).encode()
            plan.append((label, name, ip))
            http = 'wait_http %s 80 120;' % ip if ip else ''
            script.append('xl_create /guest/%s.xl; wait_first_line %s 120; %s'
                          ' xl destroy %s; usleep 500000' % (name, name, http, name))

    timeout = 60 + 150 * len(plan)
    with XenRig().boot(files=files, script='\n'.join(script), name='boot_time',
                       timeout=timeout) as s:
        s.wait()
        marks = s.marks()

    results = {}
    # the marks of one run come in order: xl-create, xl-created, first-line, http-200
    for label, name, ip in plan:
        t = {}
        for _, up, what in marks:
            if what.startswith('xl-create /guest/%s.xl' % name):
                t['start'] = up
            elif what.startswith('xl-created /guest/%s.xl' % name):
                t['created'] = up
            elif what == 'first-line ' + name:
                t['line'] = up
            elif what.startswith('http-200') and 'line' in t and 'http' not in t:
                t['http'] = up
        if not {'start', 'created', 'line'} <= set(t) or (ip and 'http' not in t):
            sys.exit('boot_time: run %s of %s did not finish (%s); see %s'
                     % (name, label, sorted(t), s.logpath))
        results.setdefault(label, []).append(
            (t['created'] - t['start'], t['line'] - t['start'],
             t['http'] - t['start'] if ip else None))

    print('%-12s %4s %10s %11s %10s' % ('guest', 'runs', 'xl create', 'first line', 'HTTP 200'))
    for label, rows in results.items():
        med = ['%.2fs' % statistics.median(col) if col[0] is not None else '-'
               for col in zip(*rows)]
        print('%-12s %4d %10s %11s %10s' % (label, len(rows), *med))
    print('(seconds from the start of `xl create`, median; Xen 4.17 in QEMU TCG, log %s)'
          % s.logpath)


if __name__ == '__main__':
    main()
