#!/usr/bin/env python3
"""The smallest `memory=` (MiB) with which a unikernel still answers, under Xen 4.17 in QEMU.
Each size gets a fresh domain in one Xen + dom0 boot and must answer from dom0 over
xenbr0: HTTP 200 on port 80, or (IMAGE.xen@IP/dns) a DNS answer for example.test.

usage: bench/min_memory.py [--sizes 4,6,8,12,16,32] IMAGE.xen@IP[/dns] ...
  (the image's .xl next to it gives name/extra; the guest gets a vif on xenbr0)
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'xen'))
from rig import XenRig, retarget_xl  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_bench import ready  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--sizes', default='4,6,8,12,16,32')
    ap.add_argument('guests', nargs='+')
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(',')]
    files, script, plan = {}, [], []
    for gi, arg in enumerate(args.guests):
        path, _, ip = arg.partition('@')
        ip, _, kind = ip.partition('/')
        wait = ready('dns' if kind == 'dns' else 'http', ip, 40)
        base = open(os.path.splitext(path)[0] + '.xl').read()
        dest = '/guest/m%d.xen' % gi
        files[dest] = path
        label = os.path.basename(os.path.dirname(os.path.abspath(path))) or path
        for mb in sizes:
            name = 'm%ds%d' % (gi, mb)
            files['/guest/%s.xl' % name] = retarget_xl(
                base, dest, name=name, memory=mb, vif=['bridge=xenbr0,mac=00:16:3e:00:01:%02x' % gi],
                on_crash='destroy', on_poweroff='destroy').encode()
            script.append('xl_create /guest/%s.xl && %s; xl destroy %s; usleep 300000'
                          % (name, wait, name))
            plan.append((label, mb, ip))
    with XenRig().boot(files=files, script='\n'.join(script), name='min_memory',
                       timeout=120 + 60 * len(plan)) as s:
        s.wait()
        log = s.text
    served = {}
    # one stretch of log per domain, from its `xl create` mark to the next one
    parts = re.split(r'@@ [\d.]+ xl-create /guest/m(\d+)s(\d+)\.xl', log)
    for i in range(1, len(parts) - 2, 3):
        gi, mb, body = int(parts[i]), int(parts[i + 1]), parts[i + 2]
        served[(gi, mb)] = bool(re.search(r'xl-created \S+ rc=0', body)
                                and re.search(r'@@ [\d.]+ (http-200|dns-ready) ', body))
    print('%-10s %s' % ('image', ' '.join('%5dM' % mb for mb in sizes)))
    for gi, arg in enumerate(args.guests):
        label = plan[gi * len(sizes)][0]
        row = ['%6s' % ('yes' if served.get((gi, mb)) else 'no') for mb in sizes]
        ok = [mb for mb in sizes if served.get((gi, mb))]
        print('%-10s %s   smallest serving: %s' % (label, ' '.join(row), ('%d MiB' % min(ok)) if ok else 'none'))


if __name__ == '__main__':
    main()
