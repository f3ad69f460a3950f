#!/usr/bin/env python3
"""Stress reproducer for dom0 user-space crashes under Xen-in-QEMU (TCG).

Not a pytest module (the name does not match test_*.py). One rig boot whose dom0 script runs
ROUNDS rounds of what the tests do: `xl create` of a small hello guest, lib.sh's polling
helpers (wait_console, wait_exit), `xl destroy`, and a fork-heavy shell loop; every round
runs in its own subshell so that a crashed round does not end the run. Afterwards it counts
the kernel's "segfault at" / "general protection" / "trap" lines for dom0 programs.

    .cache/venv/bin/python tests/xen/stress_dom0.py [--rounds 40] [--cpu max,...]
        [--xen-args '...'] [--timeout 600] [--name stress]

--cpu replaces the rig's QEMU -cpu value (default: the one in rig.QEMU); --xen-args is
appended to Xen's command line (a later option wins: `--xen-args spec-ctrl=eager-fpu=0`
brings back Xen's default lazy FPU switching, which crashed ~4% of rounds, see rig.py).
~2.4 s a round; 150 rounds fit in the default 600 s. Prints one summary line:
    stress NAME: rounds R/N crashes C (programs ...) cpu=... xen-args=...
and exits 1 when a dom0 program crashed.
"""
import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import rig as rigmod  # noqa: E402

BUILD = os.path.join(rigmod.ROOT, 'build', 'stress')

ROUND = r'''
round() {
  # lib.sh's xl_create, bounded: after a crashed xl the next one once hung for good
  mark "xl-create /guest/hello.xl"
  timeout 60 xl create /guest/hello.xl
  rc=$?
  mark "xl-created /guest/hello.xl rc=$rc"
  [ $rc -eq 0 ] || { xl destroy hello 2>/dev/null; return 1; }
  wait_console hello 'iteration' 60
  wait_exit hello 60
  xl destroy hello
  # fork-heavy: command substitutions and pipelines, as the helpers do
  j=0
  while [ $j -lt 20 ]; do
    v=$(echo "r$1 j$j" | sed 's/j/J/' | tr 'r' 'R')
    n=$(cat /proc/uptime | wc -c)
    j=$((j + 1))
  done
  [ "$v" = "R$1 J19" ] || echo "@@ stress-bad-value $1 $v"
}
i=0
while [ $i -lt %(rounds)d ]; do
  i=$((i + 1))
  (round $i)
  echo "@@ round $i rc=$?"
  xl destroy hello 2>/dev/null
done
echo "@@ stress-done $i"
'''

# the kernel's reports of a fatal signal, glibc's malloc consistency checks (they abort),
# and busybox sh's reports of a child killed by a signal
CRASH = re.compile(r'(\S+)\[\d+\]: (?:segfault at|general protection|trap )|traps: (\S+)\[\d+\]'
                   r'|^(?:\[ *[\d.]+\] )?((?:corrupted|malloc\(\)|free\(\)|realloc\(\)|double free'
                   r'|munmap_chunk|malloc_consolidate)[^\n]*|Segmentation fault|Aborted|Illegal instruction'
                   r'|Bus error)', re.M)


def hello_image():
    d = rigmod.morgana_build('configs/hello.py', BUILD, 'SCALE=0.01', 'ITERATIONS=2', 'LOOPS=2')
    with open(os.path.join(d, 'hello.xl')) as f:
        xl = rigmod.retarget_xl(f.read(), '/guest/hello.xen', on_poweroff='preserve',
                                on_crash='preserve')
    return {'/guest/hello.xen': os.path.join(d, 'hello.xen'), '/guest/hello.xl': xl.encode()}


def run(rounds, cpu=None, xen_args='', timeout=600, name='stress', dom0_args=''):
    """One stressed boot -> (rounds done, [crashed program names], log path)."""
    if cpu:
        q = list(rigmod.QEMU)
        q[q.index('-cpu') + 1] = cpu
        rigmod.QEMU[:] = q
    if xen_args:
        rigmod.XEN_ARGS = rigmod.XEN_ARGS + ' ' + xen_args
    files = hello_image()
    r = rigmod.XenRig()
    with r.boot(files=files, script=ROUND % {'rounds': rounds}, timeout=timeout,
                name=name, dom0_args=dom0_args) as s:
        s.wait()
        text = s.text
        path = s.logpath
    done = len(re.findall(r'^@@ round \d+ rc=', text, re.M))
    # one entry per round (and the part after the last one) that shows any crash sign
    crashed = []
    for n, part in enumerate(re.split(r'^@@ round \d+ rc=\d+$', text, flags=re.M)):
        signs = sorted(set(next(g for g in m.groups() if g) for m in CRASH.finditer(part)))
        if signs:
            crashed.append('r%d:%s' % (n + 1, ','.join(s.replace(' ', '_') for s in signs)))
    return done, crashed, path


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--rounds', type=int, default=40)
    p.add_argument('--cpu', default=None)
    p.add_argument('--xen-args', default='')
    p.add_argument('--dom0-args', default='')
    p.add_argument('--timeout', type=int, default=600)
    p.add_argument('--name', default='stress')
    a = p.parse_args()
    done, crashed, path = run(a.rounds, a.cpu, a.xen_args, a.timeout, a.name, a.dom0_args)
    cpu = rigmod.QEMU[rigmod.QEMU.index('-cpu') + 1]
    print('stress %s: rounds %d/%d crashes %d (%s) cpu=%s xen-args=%r log=%s'
          % (a.name, done, a.rounds, len(crashed), ' '.join(crashed) or '-', cpu,
             a.xen_args, os.path.relpath(path, rigmod.ROOT)))
    return 1 if crashed or done < a.rounds else 0


if __name__ == '__main__':
    sys.exit(main())
