# The heavier tier of issue 15 (`make soak`, not in `make test`): the www and dns
# unikernels on unix-tap (MicroPython, our TCP/IP stack), each in its own network
# namespace, under load (wrk against www, a UDP query loop against dns) and randomized abuse
# from the Linux side for --minutes (30): SYN floods, junk segments, malformed and fuzzed
# frames (scapy), silent zero-window connections, bursts of clients, idle connection
# hoards, forged ICMP errors and UDP junk, in rounds that shuffle the attacks and draw their
# sizes at random (seeded). Both run with STATS=10, so every 10 s they log stack.memory()
# after a garbage collection (the live heap).
#   tests/tap/soak.py [--minutes 30] [--seed N] [--keep DIR]
# The first window (5 min, or a third of a shorter run) is followed by a quiet period
# (no load, no abuse, long enough for every timeout), then the rest, then another.
# Passes when: neither unikernel crashed (still running, no traceback or MemoryError in
# its log); no heap growth between the first and the last window: the live heap settled
# after the last is within 256 KiB (or 10%) of the heap settled after the first (the apps'
# own bounded caches are warm by then), with no flow left either time; the stack's
# accounting never passed its budget; service never stopped (every load chunk got answers).
# Prints the numbers either way (and the heap under load in both windows); exit status 0
# on pass.
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import netns  # noqa: E402

ROOT = netns.ROOT
MORGANA = os.path.join(ROOT, ".cache", "venv", "bin", "morgana")
PY = netns.CPYTHON
# the morgana tool of this tree, whatever the venv's editable install points at
ENV = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "pylib"))
IP = netns.STACK_IP
STATS_RE = re.compile(r"\[stats\] mem (.*?) \|")
DNS_LOAD = r"""
import json, random, socket, struct, sys, time
names = [b"www", b"sip", b"mail", b"ns1", b"nothing", b"big", b""]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
end = time.time() + float(sys.argv[1])
sent = got = 0
while time.time() < end:
    n = random.choice(names)
    qname = (bytes([len(n)]) + n if n else b"") + b"\x07example\x04test\x00"
    qid = random.getrandbits(16)
    s.sendto(struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname +
             struct.pack("!HH", random.choice((1, 28, 15, 16)), 1), (%r, 53))
    sent += 1
    try:
        while True:
            d = s.recv(4096)
            if d[:2] == struct.pack("!H", qid):
                got += 1
                break
    except OSError:
        pass
print(json.dumps({"sent": sent, "answered": got}))
""" % IP
ICMP_ABUSE = r"""
import random, sys
from scapy.all import Ether, IP, ICMP, TCP, UDP, Raw, sendp, conf
conf.verb = 0
mac, dip, port, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rnd = random.Random(seed)
pkts = []
for i in range(n):
    code = rnd.choice((0, 1, 2, 3, 4, 4, 4, 13))
    quote = IP(src=dip, dst="10.0.0.1", flags="DF") / TCP(sport=port, dport=rnd.randint(1, 65535),
                                                          seq=rnd.getrandbits(32))
    icmp = ICMP(type=rnd.choice((3, 3, 3, 11, 4, 12)), code=code,
                nexthopmtu=rnd.choice((0, 68, 296, 576, 1000, 1400, 9000)))
    src = "10.0.0.%d" % rnd.randint(1, 254)
    pkts.append(Ether(dst=mac) / IP(src=src, dst=dip) / icmp / Raw(bytes(quote)[:rnd.choice((8, 20, 28, 40))]))
sendp(pkts, iface="tap0")
print("SENT", len(pkts))
"""
UDP_JUNK = r"""
import random, socket, sys
rnd = random.Random(int(sys.argv[3]))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[2])):
    s.sendto(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 600))), (sys.argv[1], 53))
print("SENT", sys.argv[2])
"""
HOARD = r"""
import socket, sys, time, resource
resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
ss = []
for i in range(int(sys.argv[3])):
    try:
        ss.append(socket.create_connection((sys.argv[1], int(sys.argv[2])), 2))
    except OSError:
        pass
time.sleep(float(sys.argv[4]))
print("HELD", len(ss))
"""


class Unikernel:
    def __init__(self, name, config, opts, workdir):
        self.name = name
        self.bdir = os.path.join(workdir, name)
        for args in (["configure", config, "--target", "unix-tap", "TAP=tap0", "DHCP=no",
                      "IP=" + IP, "STATS=10"] + opts, ["build"]):
            r = subprocess.run([MORGANA, "-B", self.bdir] + args, cwd=ROOT, env=ENV,
                               capture_output=True, text=True, timeout=300)
            if r.returncode:
                raise SystemExit("%s %s failed:\n%s%s" % (name, args[0], r.stdout, r.stderr))
        self.ns = netns.Netns("sk" + name[:3])
        self.logpath = os.path.join(workdir, name + ".log")
        self.log = open(self.logpath, "w+")
        self.proc = self.ns.popen([MORGANA, "-B", self.bdir, "run", "--python", "micropython"],
                                  cwd=ROOT, env=ENV, stdout=self.log,
                                  stderr=subprocess.STDOUT)
        self.samples = []   # (time, memory dict) from the STATS lines
        self._pos = 0

    def read_stats(self):
        self.log.flush()
        with open(self.logpath) as f:
            f.seek(self._pos)
            text = f.read()
            self._pos = f.tell()
        for m in STATS_RE.finditer(text):
            d = {}
            for kv in m.group(1).split():
                k, _, v = kv.partition("=")
                try:
                    d[k] = int(v)
                except ValueError:
                    d[k] = v
            self.samples.append((time.time(), d))
        return text

    def crashed(self):
        if self.proc.poll() is not None:
            return "exited with %s" % self.proc.returncode
        with open(self.logpath) as f:
            t = f.read()
        if "Traceback" in t or "MemoryError" in t:
            return "traceback in its log"
        return None

    def mac(self):
        out = self.ns.run("ip", "neigh", "show", IP).stdout.split()
        return out[out.index("lladdr") + 1] if "lladdr" in out else None

    def close(self):
        self.ns.close()


def wait_up(uk, check, what):
    end = time.time() + 60
    while time.time() < end:
        if check():
            return
        if uk.proc.poll() is not None:
            break
        time.sleep(0.5)
    raise SystemExit("%s never answered %s:\n%s" % (uk.name, what, open(uk.logpath).read()))


class Load(threading.Thread):
    """Back-to-back chunks of load; each chunk's result is kept with its time."""

    def __init__(self, uk, kind, chunk, stop):
        threading.Thread.__init__(self, daemon=True)
        self.uk, self.kind, self.chunk, self.stop = uk, kind, chunk, stop
        self.results = []

    def run(self):
        while not self.stop.is_set():
            t = time.time()
            if self.kind == "wrk":
                r = self.uk.ns.run("wrk", "-t1", "-c8", "-d%ds" % self.chunk, "--timeout", "5s",
                                   "http://%s/" % IP, check=False, timeout=self.chunk + 60)
                out = r.stdout
                req = re.search(r"(\d+) requests in", out)
                err = re.search(r"Socket errors: (.*)", out)
                non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
                res = {"requests": int(req.group(1)) if req else 0,
                       "errors": err.group(1) if err else "",
                       "non2xx": int(non2xx.group(1)) if non2xx else 0}
            else:
                r = self.uk.ns.run(PY, "-c", DNS_LOAD, str(self.chunk), check=False,
                                   timeout=self.chunk + 60)
                try:
                    res = json.loads(r.stdout.strip().splitlines()[-1])
                except (ValueError, IndexError):
                    res = {"sent": 0, "answered": 0, "error": r.stderr[-300:]}
            self.results.append((t, res))


def attacks(uk, port, mac, rnd):
    """The menu of abuse against uk's port: (name, argv) choices."""
    seed = str(rnd.getrandbits(20))
    menu = [
        ("syn flood", [PY, os.path.join(HERE, "tcp_storm.py"), "tap0", mac, IP, str(port),
                       "syn", "0", str(rnd.randint(500, 3000))]),
        ("junk segments", [PY, os.path.join(HERE, "tcp_storm.py"), "tap0", mac, IP, str(port),
                           "junk", str(rnd.randint(1024, 60000)), str(rnd.randint(200, 800))]),
        ("malformed+fuzz", [PY, os.path.join(HERE, "malformed.py"), mac, IP, "10.0.0.1",
                            str(rnd.randint(100, 400))]),
        ("silent zero-window", [PY, os.path.join(HERE, "zw_flood.py"), "tap0", mac, IP,
                                str(port), str(rnd.randint(100, 1500)), "--timeout", "40"]),
        ("burst", [PY, os.path.join(HERE, "burst.py"), IP, str(port), "/", str(
            rnd.randint(50, 500)), "30"]),
        ("hoard", ["python3", "-c", HOARD, IP, str(port), str(rnd.randint(50, 400)),
                   str(rnd.randint(5, 40))]),
        ("icmp errors", [PY, "-c", ICMP_ABUSE, mac, IP, str(port), str(rnd.randint(50, 500)),
                         seed]),
    ]
    if port == 53:
        menu.append(("udp junk", ["python3", "-c", UDP_JUNK, IP, str(rnd.randint(200, 3000)),
                                  seed]))
    return menu


class Abuse(threading.Thread):
    def __init__(self, uk, port, rnd, stop):
        threading.Thread.__init__(self, daemon=True)
        self.uk, self.port, self.rnd, self.stop = uk, port, rnd, stop
        self.done = {}

    def run(self):
        mac = self.uk.mac()
        while not self.stop.is_set():
            # one round: every attack once, in a shuffled order, with fresh random sizes
            menu = attacks(self.uk, self.port, mac, self.rnd)
            self.rnd.shuffle(menu)
            for name, argv in menu:
                if self.stop.is_set():
                    return
                r = self.uk.ns.run(*argv, check=False, timeout=300)
                self.done[name] = self.done.get(name, 0) + 1
                if r.returncode:
                    k = name + " (tool failed)"
                    self.done[k] = self.done.get(k, 0) + 1
                self.stop.wait(self.rnd.uniform(0, 5))


QUIET = 150  # s with neither load nor abuse: persist 60 s, orphans 100 s, TIME_WAIT 60 s


def window(samples, t0, t1):
    return [d for t, d in samples if t0 <= t < t1 and "heap_used" in d]


def verdict(uk, phases):
    """phases: [(start, end, quiet_end)] of the first window and of the rest. The heap is
    compared where nothing is going on: at the end of the quiet period after the first
    window (caches warm, attacks over) and at the end of the one after the last."""
    (s1, e1, q1), (s2, e2, q2) = phases
    w = e1 - s1
    first = window(uk.samples, s1, e1)
    last = window(uk.samples, max(s2, e2 - w), e2)
    quiet1 = window(uk.samples, q1 - 30, q1 + 1)
    quiet2 = window(uk.samples, q2 - 30, q2 + 1)
    idle = window(uk.samples, 0, s1)
    if not first or not last or not quiet1 or not quiet2:
        return False, "%s: not enough STATS samples (%d, %d, %d, %d)" % (
            uk.name, len(first), len(last), len(quiet1), len(quiet2))
    h1 = sorted(d["heap_used"] for d in first)
    h2 = sorted(d["heap_used"] for d in last)
    a, b = quiet1[-1], quiet2[-1]
    base = idle[-1]["heap_used"] if idle else h1[0]
    budget = first[0].get("budget")
    peak = max(d.get("max", 0) for t, d in uk.samples)
    grew = b["heap_used"] - a["heap_used"]
    ok = (grew <= max(262144, a["heap_used"] // 10) and a.get("flows") == 0
          and b.get("flows") == 0 and b.get("used") == 0)
    if budget:
        ok = ok and peak <= budget
    text = ("%s: live heap idle %d; under load: first %.0f s median %d max %d, last %.0f s "
            "median %d max %d; settled (quiet %d s, 0 flows wanted): after the first window "
            "%d (%s flows), after the last %d (%s flows): %+d; accounted max %d of budget %s"
            % (uk.name, base, w, h1[len(h1) // 2], h1[-1], w, h2[len(h2) // 2], h2[-1], QUIET,
               a["heap_used"], a.get("flows"), b["heap_used"], b.get("flows"), grew, peak,
               budget))
    return ok, text


def run_phase(uks, loads, abuse, seconds):
    """Load and abuse for `seconds`, then QUIET s of nothing; -> (start, end, quiet end,
    crash or None). Threads are made fresh for each phase (make(stop) -> list)."""
    stop = threading.Event()
    threads = loads(stop) + abuse(stop)
    start = time.time()
    for t in threads:
        t.start()
    crash = None
    while time.time() < start + seconds and not crash:
        time.sleep(5)
        crash = poll(uks)
    stop.set()
    for t in threads:
        t.join(400)
    end = time.time()
    while time.time() < end + QUIET and not crash:
        time.sleep(5)
        crash = poll(uks)
    return (start, end, time.time(), crash), threads


def poll(uks):
    for uk in uks:
        uk.read_stats()
        c = uk.crashed()
        if c:
            return "%s %s" % (uk.name, c)
    return None


def main(argv):
    minutes = 30.0
    seed = int(time.time())
    keep = None
    i = 0
    while i < len(argv):
        if argv[i] == "--minutes":
            minutes = float(argv[i + 1])
        elif argv[i] == "--seed":
            seed = int(argv[i + 1])
        elif argv[i] == "--keep":
            keep = argv[i + 1]
        else:
            raise SystemExit("usage: soak.py [--minutes M] [--seed N] [--keep DIR]")
        i += 2
    why = netns.can_run()
    if why:
        raise SystemExit("soak: " + why)
    work = keep or tempfile.mkdtemp(prefix="morgana-soak-")
    os.makedirs(work, exist_ok=True)
    w = min(300.0, minutes * 60 / 3.0)
    print("soak: %.1f min of load and abuse (+2 quiet periods of %d s), windows of %.0f s, "
          "seed %d, logs in %s" % (minutes, QUIET, w, seed, work))
    sys.stdout.flush()
    www = Unikernel("www", "configs/www.py", ["PORT=80"], work)
    dns = Unikernel("dns", "configs/dns.py", ["PORT=53", "TCP_IDLE=5"], work)
    uks = (www, dns)
    ok = True
    try:
        wait_up(www, lambda: www.ns.run("curl", "-s", "-o", "/dev/null", "--max-time", "1",
                                        "http://%s/" % IP, check=False).returncode == 0,
                "HTTP")
        wait_up(dns, lambda: dns.ns.run("dig", "@" + IP, "+time=1", "+tries=1", "+short",
                                        "sip.example.test", check=False).stdout.strip(),
                "DNS")
        netns.ping(www.ns, IP, 1)
        netns.ping(dns.ns, IP, 1)
        time.sleep(12)  # one STATS line at idle
        rnd = random.Random(seed)
        chunk = 60 if minutes >= 5 else 20
        rw, rd = random.Random(rnd.getrandbits(32)), random.Random(rnd.getrandbits(32))
        all_loads = []
        all_abuse = []

        def loads(stop):
            ls = [Load(www, "wrk", chunk, stop), Load(dns, "dns", chunk, stop)]
            all_loads.append(ls)
            return ls

        def abuse(stop):
            ab = [Abuse(www, 80, rw, stop), Abuse(dns, 53, rd, stop)]
            all_abuse.append(ab)
            return ab
        phases = []
        crash = None
        for secs in (w, minutes * 60 - w):
            (s0, e0, q0, crash), _ = run_phase(uks, loads, abuse, secs)
            phases.append((s0, e0, q0))
            if crash:
                break
        print("\n== soak result (%.1f min of load and abuse, seed %d) ==" % (
            sum(e - s for s, e, q in phases) / 60, seed))
        if crash:
            print("CRASH: " + crash)
            ok = False
        for kind in ("wrk", "dns"):
            res = [r for ls in all_loads for ld in ls if ld.kind == kind
                   for t, r in ld.results]
            if kind == "wrk":
                total = sum(r["requests"] for r in res)
                per = [r["requests"] / float(chunk) for r in res]
                errs = [r["errors"] for r in res if r["errors"]]
                print("www wrk -c8: %d requests in %d chunks of %d s, req/s per chunk min %.0f "
                      "max %.0f; socket errors in %d chunks%s" % (
                          total, len(res), chunk, min(per) if per else 0,
                          max(per) if per else 0, len(errs),
                          (" (last: %s)" % errs[-1]) if errs else ""))
                dead = [r for r in res if r["requests"] == 0]
            else:
                sent = sum(r["sent"] for r in res)
                got = sum(r["answered"] for r in res)
                print("dns UDP queries: %d sent, %d answered (%.2f%%) in %d chunks" % (
                    sent, got, 100.0 * got / max(1, sent), len(res)))
                dead = [r for r in res if r["answered"] == 0]
            if dead:
                print("  %d chunk(s) got no answer at all: service stopped" % len(dead))
                ok = False
        for name, idx in (("www", 0), ("dns", 1)):
            done = {}
            for ab in all_abuse:
                for k, v in ab[idx].done.items():
                    done[k] = done.get(k, 0) + v
            print("%s abuse: %s" % (name, dict(sorted(done.items()))))
        if len(phases) == 2:
            for uk in uks:
                good, text = verdict(uk, phases)
                print(("ok   " if good else "FAIL ") + text)
                ok = ok and good
    finally:
        for uk in uks:
            uk.close()
    print("soak: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
