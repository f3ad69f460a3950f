# dns: an authoritative DNS server for one zone (issue 6).
# Options: PORT (53), ZONE (master file), ZONE_AT (build: compile the zone into the image,
# no parser and no zone text frozen; boot: parse ZONE when the app starts - unix only).
# Compiling at build time: example.zone boots in 0.1 ms instead of 8-17 ms of parsing on
# MicroPython; a 1300-record zone in 5 ms instead of 770 ms (and it needs no 2 MB heap).
#   python -m morgana.dns.compile configs/zones/example.zone build/dns/zone_data.py


def config(c):
    c.option("PORT", 53, "UDP and TCP port")
    c.option("ZONE", "configs/zones/example.zone", "RFC 1035 master file")
    c.option("ZONE_AT", "build", "build|boot: where the master file is parsed")
    c.network()
    if c.get("ZONE_AT") == "build":
        c.generate("zone_data", ["morgana.dns.compile", c.get("ZONE")])
        c.modules("morgana.dns.wire", "morgana.dns.zonedata", "morgana.dns.server",
                  "morgana.dns.app")
    else:
        c.modules("morgana.dns.wire", "morgana.dns.zonedata", "morgana.dns.zone",
                  "morgana.dns.server", "morgana.dns.app")


async def main(env):
    from morgana.dns import app
    if env.get("ZONE_AT") == "build":
        import zone_data
        zones = app.zones_from_modules([zone_data])
    else:
        zones = app.zones_from_files([env.get("ZONE")])
    await app.serve_forever(env.stack, zones, int(env.get("PORT")))
