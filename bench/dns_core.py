# Answers/s of DnsServer.handle() alone (no sockets), on whichever Python runs it:
#   MICROPYPATH=pylib build/unix/micropython bench/dns_core.py configs/zones/example.zone
# Prints "cached N/s uncached M/s" for a mix of every (name, type) of the zone + NXDOMAIN.
import sys
import time
from morgana.dns import wire
from morgana.dns.zone import load_zone
from morgana.dns.server import DnsServer


def clock_us():
    if hasattr(time, "ticks_us"):
        return time.ticks_us()
    return int(time.perf_counter() * 1e6)


def queries(z):
    out = []
    i = 0
    for node in z.nodes.values():
        for rtype in node:
            m = wire.Message(i, wire.RD)
            m.question.append((node[rtype][0], rtype, wire.IN))
            out.append(wire.build_message(m))
            i += 1
    for k in range(4):
        m = wire.Message(k, 0)
        m.question.append((wire.name_from_text("nx%d" % k, z.origin), wire.A, wire.IN))
        out.append(wire.build_message(m))
    return out


def main(path, rounds=200):
    z = load_zone(path)
    srv = DnsServer([z])
    qs = queries(z)
    handle = srv.handle
    t0 = clock_us()
    for _ in range(rounds):
        for q in qs:
            handle(q)
    cached = rounds * len(qs) * 1e6 / max(1, clock_us() - t0)
    t0 = clock_us()
    n = 0
    for _ in range(rounds // 10):
        for q in qs:
            srv.cache.clear()
            handle(q)
            n += 1
    uncached = n * 1e6 / max(1, clock_us() - t0)
    print("cached %d/s uncached %d/s" % (cached, uncached))


main(sys.argv[1] if len(sys.argv) > 1 else "configs/zones/example.zone")
