# DNS queries/s: morgana's server (CPython and MicroPython Unix port, host sockets) side by
# side with NSD serving the same zone, measured by dnsperf over UDP on 127.0.0.1.
# Bounded: each run lasts --seconds (default 5). Usage:
#   .cache/venv/bin/python bench/dns_bench.py [--seconds 5] [--target NAME=IP:PORT ...]
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "pylib"))
from morgana.dns import wire, zone  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tests", "xen"))
from rig import free_port  # noqa: E402

ZONE = os.path.join(ROOT, "configs", "zones", "example.zone")
ORIGIN = "example.test."


def write_queries(path):
    """Every (name, type) of the zone plus a few NXDOMAIN names, one query per line."""
    z = zone.load_zone(ZONE)
    lines = []
    for node in z.nodes.values():
        for rtype, (owner, _, _) in node.items():
            if rtype == wire.TXT and owner.lower().startswith(b"\x03big"):
                continue  # >512 bytes: truncated without EDNS, a TCP retry dnsperf won't do
            lines.append("%s %s" % (wire.name_to_text(owner), wire.TYPE_NAMES[rtype]))
    lines += ["nx%d.%s A" % (i, ORIGIN) for i in range(4)]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return len(lines)


def wait_udp(port, timeout=10.0):
    q = wire.Message(1, 0)
    q.question.append((wire.name_from_text(ORIGIN), wire.SOA, wire.IN))
    data = wire.build_message(q)
    end = time.time() + timeout
    while time.time() < end:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.3)
        try:
            s.sendto(data, ("127.0.0.1", port))
            if s.recv(4096):
                return True
        except OSError:
            pass
        finally:
            s.close()
    return False


def start_tool(python, port, tmp):
    """configs/dns.py through `morgana configure/build/run` (host socket_stack)."""
    tool = os.path.join(os.path.dirname(sys.executable), "morgana")
    env = dict(os.environ, MORGANA_BUILD=os.path.join(tmp, "mb-" + python))
    for args in (["configure", "configs/dns.py", "PORT=%d" % port, "IP=127.0.0.1"], ["build"]):
        subprocess.run([tool] + args, cwd=ROOT, env=env, check=True, capture_output=True)
    return subprocess.Popen([tool, "run", "--python", python], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def tap_rate(python, qfile, seconds, clients, tmp):
    """configs/dns.py on our own stack (unix-tap) in a network namespace; dnsperf runs on
    the Linux side of the TAP. -> (qps, latency us, lost)."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "tap"))
    import netns
    tool = os.path.join(os.path.dirname(sys.executable), "morgana")
    env = dict(os.environ, MORGANA_BUILD=os.path.join(tmp, "mbtap-" + python))
    for args in (["configure", "configs/dns.py", "--target", "unix-tap", "TAP=tap0",
                  "DHCP=no", "IP=" + netns.STACK_IP], ["build"]):
        subprocess.run([tool] + args, cwd=ROOT, env=env, check=True, capture_output=True)
    ns = netns.Netns("dnsb" + python[:2])
    try:
        ns.popen([tool, "run", "--python", python], env=env, cwd=ROOT,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(40):
            r = ns.run("dig", "@" + netns.STACK_IP, "+time=1", "+tries=1", "+short",
                       ORIGIN, "SOA", check=False)
            if r.stdout.strip():
                break
            time.sleep(0.5)
        else:
            raise RuntimeError("dns on unix-tap did not answer")
        out = ns.run("dnsperf", "-s", netns.STACK_IP, "-d", qfile, "-l", str(seconds),
                     "-c", str(clients), "-t", "2", "-q", "20", timeout=seconds + 30).stdout
        return parse_dnsperf(out)
    finally:
        ns.close()


def start_morgana(kind, port):
    env = dict(os.environ)
    paths = os.pathsep.join([os.path.join(ROOT, "pylib"), os.path.join(ROOT, "tests", "dns")])
    runner = os.path.join(ROOT, "tests", "dns", "run_server.py")
    if kind == "cpython":
        env["PYTHONPATH"] = paths
        cmd = [sys.executable, runner, ZONE, str(port)]
    else:
        env["MICROPYPATH"] = paths
        cmd = [os.path.join(ROOT, "build", "unix", "micropython"), runner, ZONE, str(port)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def nsd_conf(ip, port, workdir, zonefile):
    """An nsd.conf serving ORIGIN from zonefile on ip:port, as root, state in workdir."""
    return """server:
  ip-address: %s
  port: %d
  server-count: 1
  username: ""
  chroot: ""
  database: ""
  zonelistfile: "%s/zone.list"
  xfrdfile: "%s/xfrd.state"
  xfrdir: "%s"
  pidfile: "%s/nsd.pid"
  logfile: "%s/nsd.log"
  verbosity: 0
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: %s
  zonefile: %s
""" % (ip, port, workdir, workdir, workdir, workdir, workdir, ORIGIN, zonefile)


def start_nsd(port, tmp):
    conf = os.path.join(tmp, "nsd.conf")
    with open(conf, "w") as f:
        f.write(nsd_conf("127.0.0.1", port, tmp, ZONE))
    return subprocess.Popen(["nsd", "-d", "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def dnsperf(ip, port, qfile, seconds, clients):
    out = subprocess.run(["dnsperf", "-s", ip, "-p", str(port), "-d", qfile, "-l", str(seconds),
                          "-c", str(clients), "-t", "2"],
                         capture_output=True, text=True, timeout=seconds + 30).stdout
    return parse_dnsperf(out)


def parse_dnsperf(out):
    # a server that answers SERVFAIL (e.g. a zone it did not load) is fast and useless
    codes = dict((k, int(v)) for k, v in re.findall(r"(\w+) (\d+) \([\d.]+%\)",
                                                    out.split("Response codes:", 1)[-1]))
    wrong = sorted(k for k in codes if k not in ("NOERROR", "NXDOMAIN"))
    if "Response codes:" not in out or wrong:
        raise RuntimeError("dnsperf got wrong answers (%s):\n%s" % (", ".join(wrong), out))
    qps = re.search(r"Queries per second:\s+([\d.]+)", out)
    lat = re.search(r"Average Latency \(s\):\s+([\d.]+)", out)
    lost = re.search(r"Queries lost:\s+(\d+)", out)
    if not qps:
        raise RuntimeError("dnsperf output not understood:\n" + out)
    return float(qps.group(1)), float(lat.group(1)) * 1e6 if lat else 0.0, int(lost.group(1))


def core_rates():
    """DnsServer.handle() alone, per Python: [(label, cached/s, uncached/s)]."""
    rows = []
    script = os.path.join(ROOT, "bench", "dns_core.py")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "pylib"),
               MICROPYPATH=os.path.join(ROOT, "pylib"))
    for label, exe in (("CPython %d.%d" % sys.version_info[:2], sys.executable),
                       ("MicroPython 1.25 unix", os.path.join(ROOT, "build", "unix", "micropython"))):
        out = subprocess.run([exe, script, ZONE], env=env, capture_output=True, text=True,
                             timeout=120).stdout
        m = re.search(r"cached (\d+)/s uncached (\d+)/s", out)
        if m:
            rows.append((label, int(m.group(1)), int(m.group(2))))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--target", action="append", default=[],
                    help="extra server to measure, NAME=IP:PORT (e.g. the unikernel)")
    ap.add_argument("--tap", action="store_true",
                    help="also configs/dns.py on our TCP/IP stack over TAP (root, netns)")
    ap.add_argument("--skip", action="append", default=[],
                    help="nsd|cpython|micropython|tool-cpython|tool-micropython")
    a = ap.parse_args()
    for tool in ("dnsperf", "nsd"):
        if not shutil.which(tool):
            sys.exit("%s missing: apt-get install -y dnsperf nsd" % tool)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        qfile = os.path.join(tmp, "queries.txt")
        nq = write_queries(qfile)
        plan = [(k, "127.0.0.1", None) for k in ("nsd", "cpython", "micropython",
                                                 "tool-cpython", "tool-micropython")
                if k not in a.skip]
        for t in a.target:
            name, addr = t.split("=", 1)
            ip, port = addr.rsplit(":", 1)
            plan.append((name, ip, int(port)))
        for kind, ip, port in plan:
            proc = None
            if port is None:
                port = free_port(udp=True)
                if kind == "nsd":
                    proc = start_nsd(port, tmp)
                elif kind.startswith("tool-"):
                    proc = start_tool(kind[5:], port, tmp)
                else:
                    proc = start_morgana(kind, port)
            try:
                if ip == "127.0.0.1" and not wait_udp(port):
                    raise RuntimeError("%s did not answer on port %d" % (kind, port))
                qps, lat, lost = dnsperf(ip, port, qfile, a.seconds, a.clients)
                rows.append((kind, qps, lat, lost))
            finally:
                if proc is not None:
                    proc.terminate()
                    proc.wait(10)
        if a.tap:
            for py in ("micropython", "cpython"):
                qps, lat, lost = tap_rate(py, qfile, a.seconds, a.clients, tmp)
                rows.append(("tap-" + py, qps, lat, lost))
    base = dict((r[0], r[1]) for r in rows).get("nsd")
    print("DNS over UDP on loopback: dnsperf -l %d -c %d, %d distinct queries (zone %s)"
          % (a.seconds, a.clients, nq, os.path.relpath(ZONE, ROOT)))
    print("| server | queries/s | avg latency (us) | lost | vs NSD |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for kind, qps, lat, lost in rows:
        ratio = "%.2f" % (qps / base) if base else "-"
        label = {"nsd": "NSD 4.6 (Debian)",
                 "cpython": "dns app + tests/dns mini stack, CPython %d.%d" % sys.version_info[:2],
                 "micropython": "dns app + tests/dns mini stack, MicroPython 1.25",
                 "tool-cpython": "configs/dns.py via morgana run (socket_stack), CPython",
                 "tool-micropython": "configs/dns.py via morgana run (socket_stack), MicroPython",
                 "tap-micropython": "configs/dns.py on our stack over TAP (netns), MicroPython",
                 "tap-cpython": "configs/dns.py on our stack over TAP (netns), CPython",
                 }.get(kind, kind)
        print("| %s | %.0f | %.0f | %d | %s |" % (label, qps, lat, lost, ratio))
    print()
    print("Answer logic alone (bench/dns_core.py, no sockets):")
    print("| python | cached answers/s | uncached answers/s |")
    print("| --- | ---: | ---: |")
    for label, c, u in core_rates():
        print("| %s | %d | %d |" % (label, c, u))


if __name__ == "__main__":
    main()
