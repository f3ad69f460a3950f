#!/usr/bin/env python3
"""HTTP requests/s and DNS queries/s of the unikernels vs Linux PV domUs, side by side in
one Xen 4.17 + dom0 boot in QEMU (TCG). The load generators run in dom0 and reach each
guest over xenbr0 (netback -> netfront), one guest at a time:

  www   (configs/www.py, FS=crunch)         wrk -t1 -cN -dS http://GUEST/   (keep-alive)
  linux (Debian 6.1 PV + busybox httpd)     the same wrk, the same htdocs/index.html
  dns   (configs/dns.py, zone compiled)     dnsperf -cC -qQ -lS, every record of the zone
  nsd   (Debian 6.1 PV + NSD 4.6)           the same dnsperf, the same zone file

Rounds alternate the guests (www, linux, dns, nsd, www, ...) so drift on this shared host
hits them alike; the table shows medians. QEMU gets --cpus CPUs (default 2) so dom0's load
generator and the guest are not time-sliced on one vCPU.

usage: .cache/venv/bin/python bench/serve_bench.py [--rounds 3] [--seconds 10]
"""
import argparse
import os
import re
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests', 'xen'))
sys.path.insert(0, HERE)
from rig import (XenRig, linux_domu_files, morgana_build, program_files,  # noqa: E402
                 retarget_xl, xl_config)
import dns_bench  # noqa: E402

HTTP_IP, DNS_IP = '10.0.2.20', '10.0.2.53'
MAC = '00:16:3e:00:00:20'
INDEX = os.path.join(ROOT, 'htdocs', 'index.html')


def build(config, ip, outdir):
    """configs/NAME.py for xen-x86_64 with a static address -> (image, its .xl text)."""
    name = os.path.splitext(os.path.basename(config))[0]
    try:
        d = morgana_build(config, outdir, 'DHCP=no', 'IP=' + ip, 'GATEWAY=10.0.2.2')
    except RuntimeError as e:
        sys.exit('serve_bench: %s' % e)
    with open(os.path.join(d, name + '.xl')) as f:
        return os.path.join(d, name + '.xen'), f.read()


def nsd_overlay():
    """Files that make the Linux domU start NSD on DNS_IP:53 with configs/zones/example.zone."""
    files, nsd = program_files('/usr/sbin/nsd')
    files['/etc/nsd/nsd.conf'] = dns_bench.nsd_conf(DNS_IP, 53, '/tmp/nsd',
                                                    '/etc/nsd/example.zone').encode()
    files['/etc/nsd/example.zone'] = dns_bench.ZONE
    # touch: the archive's files date from 1970, and NSD skips a zone file that is not
    # newer than what it has (nothing, at time 0): every query would get SERVFAIL
    files['/etc/rig/start'] = (('#!/bin/sh\nmkdir -p /tmp/nsd\ntouch /etc/nsd/example.zone\n'
                                '%s -c /etc/nsd/nsd.conf\necho "linux-domU: nsd rc=$?"\n'
                                % nsd).encode(), 0o755)
    return files


def guests(outdir, memory=None):
    """{label: (files for dom0, xl text, ip, kind)}"""
    www, www_xl = build('configs/www.py', HTTP_IP, outdir)
    dns, dns_xl = build('configs/dns.py', DNS_IP, outdir)

    def unikernel(image, text, dest):
        extra = {'memory': memory} if memory else {}
        return ({dest: image}, retarget_xl(text, dest, name='NAME', on_poweroff='destroy',
                                           vif=['bridge=xenbr0,mac=' + MAC], on_crash='destroy',
                                           **extra))

    def linux(ip, overlay, name):
        files = linux_domu_files(overlay=overlay, name=name)
        return files, xl_config('NAME', '/guest/vmlinux', memory=128,
                                ramdisk='/guest/%s-initrd.gz' % name,
                                extra='console=hvc0 quiet rig.ip=%s' % ip,
                                vif=['bridge=xenbr0,mac=' + MAC], preserve=False)

    out = {'www': unikernel(www, www_xl, '/guest/www.xen') + (HTTP_IP, 'http'),
           'linux': linux(HTTP_IP, {'/www/index.html': INDEX}, 'linux-httpd') + (HTTP_IP, 'http'),
           'dns': unikernel(dns, dns_xl, '/guest/dns.xen') + (DNS_IP, 'dns'),
           'nsd': linux(DNS_IP, nsd_overlay(), 'linux-nsd') + (DNS_IP, 'dns')}
    return out


def ready(kind, ip, timeout=120):
    """dom0 script line that waits until the guest at ip serves (kind: http or dns)."""
    if kind == 'http':
        return 'wait_http %s 80 %d' % (ip, timeout)
    return 'wait_dns %s example.test %d' % (ip, timeout)


def parse_wrk(out):
    rps = re.search(r'Requests/sec:\s+([\d.]+)', out)
    lat = re.search(r'Latency\s+([\d.]+)(us|ms|s)\b', out)
    total = re.search(r'(\d+) requests in [\d.]+\w+, ([\d.]+)(B|KB|MB|GB) read', out)
    errors = re.search(r'Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)', out)
    non2xx = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
    if not (rps and lat and total):
        raise RuntimeError('wrk output not understood:\n' + out)
    scale = {'us': 1, 'ms': 1e3, 's': 1e6}[lat.group(2)]
    unit = {'B': 1, 'KB': 1024, 'MB': 1 << 20, 'GB': 1 << 30}[total.group(3)]
    bad = sum(int(x) for x in errors.groups()) if errors else 0
    bad += int(non2xx.group(1)) if non2xx else 0
    n = int(total.group(1))
    return float(rps.group(1)), float(lat.group(1)) * scale, bad, \
        float(total.group(2)) * unit / max(n, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--seconds', type=int, default=10)
    ap.add_argument('--connections', type=int, default=8, help='wrk -c')
    ap.add_argument('--clients', type=int, default=1, help='dnsperf -c')
    ap.add_argument('--outstanding', type=int, default=20, help='dnsperf -q')
    ap.add_argument('--cpus', type=int, default=2)
    ap.add_argument('--memory', type=int, help="the unikernels' memory= (default: their .xl)")
    ap.add_argument('--only', action='append', choices=['www', 'linux', 'dns', 'nsd'])
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix='serve_bench.')
    plan = guests(os.path.join(ROOT, 'build', 'bench-serve'), a.memory)
    labels = a.only or list(plan)
    qfile = os.path.join(tmp, 'queries.txt')
    nq = dns_bench.write_queries(qfile)
    files = {'/guest/queries.txt': qfile}
    wrk_files, wrk = program_files('/usr/bin/wrk')
    perf_files, dnsperf = program_files('/usr/bin/dnsperf')
    files.update(wrk_files)
    files.update(perf_files)
    script = []
    for r in range(a.rounds):
        for label in labels:
            gfiles, xl, ip, kind = plan[label]
            files.update(gfiles)
            name = '%s%d' % (label, r)
            files['/guest/%s.xl' % name] = xl.replace('"NAME"', '"%s"' % name).encode()
            load = ('%s -t1 -c%d -d%ds --latency http://%s:80/' % (wrk, a.connections, a.seconds, ip)
                    if kind == 'http' else
                    '%s -s %s -d /guest/queries.txt -l %d -c %d -q %d -t 2'
                    % (dnsperf, ip, a.seconds, a.clients, a.outstanding))
            # dom0's interrupt counts for the guest's vif around the load: the events the
            # guest's frontend sends cost dom0 (and so the load generator) CPU
            irqs = ('echo "@@ irqs %s $(grep vif /proc/interrupts | awk \'{s += $2} END '
                    '{print s}\')"' % name)
            script.append('xl_create /guest/{n}.xl; {ready}\n{irqs}\n'
                          'echo "@@ load {n} begin"\n{load}\necho "@@ load {n} end"\n{irqs}\n'
                          'show_console {n}; xl destroy {n}; sleep 1'
                          .format(n=name, ready=ready(kind, ip), load=load, irqs=irqs))
    per_run = 60 + a.seconds
    with XenRig().boot(files=files, script='\n'.join(script), name='serve_bench',
                       timeout=120 + per_run * a.rounds * len(labels), cpus=a.cpus) as s:
        s.wait()
        text = s.text
    rows = {}
    for r in range(a.rounds):
        for label in labels:
            name = '%s%d' % (label, r)
            m = re.search(r'^@@ load %s begin\n(.*?)^@@ load %s end$' % (name, name), text,
                          re.M | re.S)
            if not m:
                sys.exit('serve_bench: %s did not run; see %s' % (name, s.logpath))
            kind = plan[label][3]
            row = parse_wrk(m.group(1)) if kind == 'http' else dns_bench.parse_dnsperf(m.group(1))
            irqs = [int(x) for x in re.findall(r'^@@ irqs %s (\d+)$' % name, text, re.M)]
            per = (irqs[1] - irqs[0]) / (row[0] * a.seconds) if len(irqs) == 2 else float('nan')
            rows.setdefault(label, []).append(row + (per,))
    report(rows, a, nq, s.logpath)


def med(rows, i):
    return statistics.median(r[i] for r in rows)


def spread(rows):
    return '%.0f-%.0f' % (min(r[0] for r in rows), max(r[0] for r in rows))


def report(rows, a, nq, log):
    print('Xen 4.17 in QEMU TCG (%d CPUs), load from dom0 over xenbr0, %d rounds of %d s, '
          'medians' % (a.cpus, a.rounds, a.seconds))
    if 'www' in rows or 'linux' in rows:
        print('\nHTTP GET / = htdocs/index.html (%d bytes): wrk -t1 -c%d (keep-alive)'
              % (os.path.getsize(INDEX), a.connections))
        print('| server | requests/s | rounds (min-max) | avg latency (ms) | errors | '
              'bytes/response | dom0 irqs/request | vs Linux |')
        print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
        base = med(rows['linux'], 0) if 'linux' in rows else None
        for label, desc in (('www', 'www unikernel (crunch)'),
                            ('linux', 'Linux PV domU, busybox httpd (closes each connection)')):
            if label in rows:
                rps = med(rows[label], 0)
                print('| %s | %.0f | %s | %.1f | %d | %.0f | %.2f | %s |'
                      % (desc, rps, spread(rows[label]), med(rows[label], 1) / 1e3,
                         sum(r[2] for r in rows[label]), med(rows[label], 3),
                         med(rows[label], 4), '%.2fx' % (rps / base) if base else '-'))
    if 'dns' in rows or 'nsd' in rows:
        print('\nDNS over UDP: dnsperf -c%d -q%d, %d distinct queries (every record of the zone'
              ' + NXDOMAIN)' % (a.clients, a.outstanding, nq))
        print('| server | queries/s | rounds (min-max) | avg latency (ms) | lost | '
              'dom0 irqs/query | vs NSD |')
        print('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
        base = med(rows['nsd'], 0) if 'nsd' in rows else None
        for label, desc in (('dns', 'dns unikernel'), ('nsd', 'Linux PV domU, NSD 4.6')):
            if label in rows:
                qps = med(rows[label], 0)
                print('| %s | %.0f | %s | %.1f | %d | %.2f | %s |'
                      % (desc, qps, spread(rows[label]), med(rows[label], 1) / 1e3,
                         sum(r[2] for r in rows[label]), med(rows[label], 3),
                         '%.2fx' % (qps / base) if base else '-'))
    print('\n(log %s)' % log)


if __name__ == '__main__':
    main()
