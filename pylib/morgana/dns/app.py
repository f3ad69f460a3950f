# The dns unikernel's body, kept out of configs/dns.py so it is importable and testable:
# load the zones (compiled at build time, or parsed from master files at boot) and serve
# them on a stack until the stack goes away.
from morgana import sched
from morgana.dns import wire, zonedata
from morgana.dns.server import DnsServer


def zones_from_modules(mods):
    """Zones from modules written by morgana.dns.compile (ORIGIN, RECORDS)."""
    return [zonedata.from_records(m.ORIGIN, m.RECORDS) for m in mods]


def zones_from_files(paths):
    """Parse master files at boot (unix targets; the image normally carries compiled zones).
    Imported by name so `morgana build`'s import scan leaves the parser out of images with
    compiled zones; configs that parse at boot list morgana.dns.zone in c.modules()."""
    zone = __import__("morgana.dns.zone").dns.zone
    return [zone.load_zone(p) for p in paths]


def start(stack, zones, port=53, edns_size=1232, cache_max=1024, tcp_idle=10.0, log=print):
    srv = DnsServer(zones, edns_size, cache_max)
    srv.serve(stack, port, tcp_idle)
    names = " ".join(wire.name_to_text(z.origin) for z in zones)
    log("dns: serving %s on port %d (udp+tcp), %d names"
        % (names, port, sum(len(z.nodes) for z in zones)))
    return srv


async def serve_forever(stack, zones, port=53, stats_every=0, log=print, **kw):
    srv = start(stack, zones, port, log=log, **kw)
    while True:
        await sched.sleep(stats_every or 3600)
        if stats_every:
            log("dns: %r" % (srv.stats,))
