# dns: an authoritative DNS server for the zone in ZONE (UDP and TCP on PORT).
#   morgana configure configs/dns.py --target unix-socket PORT=5353
#   morgana build && morgana run           # then: dig @127.0.0.1 -p 5353 www.example.test
# ZONE_AT=build (default) compiles the master file into a module at build time
# (morgana.dns.compile): the image carries neither the zone text nor the parser, and the
# zone is ready at boot in ~0.1 ms instead of ~1.5 ms of parsing for example.zone on
# MicroPython (1300 records: 13 ms vs 72 ms). ZONE_AT=boot parses ZONE when main starts
# (unix targets, path relative to the working directory).


def config(c):
    import os  # host side only: the image has no os module
    port = c.option("PORT", 53, "UDP and TCP port")
    path = c.option("ZONE", "configs/zones/example.zone", "RFC 1035 master file")
    at = c.option("ZONE_AT", "build", "where the master file is parsed", ("build", "boot"))
    c.option("EDNS_SIZE", 1232, "UDP payload size we advertise and accept (EDNS0)")
    c.option("STATS_EVERY", 0, "seconds between stats log lines (0: never)")
    c.option("TCP_IDLE", 10.0, "seconds a TCP client may stay silent before we close")
    c.network()
    # check the zone now, so a bad file fails configure with file:line: field (imported
    # by name: an import statement would freeze the parser into ZONE_AT=build images)
    from morgana.host.config import ConfigError
    import importlib
    load_zone = importlib.import_module("morgana.dns.zone").load_zone
    full = path if os.path.isabs(path) else os.path.join(c.root, path)
    try:
        load_zone(full)
    except (OSError, ValueError) as e:
        raise ConfigError("ZONE: %s" % e)
    if at == "boot" and not c.is_unix:
        raise ConfigError("ZONE_AT=boot reads ZONE from the host's files: unix targets only")
    if not 0 < port < 65536:
        raise ConfigError("PORT: %d is not in 1..65535" % port)
    if at == "build":
        c.generate("zone_data", ["morgana.dns.compile", full])
        c.modules("morgana.dns.zonedata", "morgana.dns.server", "morgana.dns.app")
    else:
        c.modules("morgana.dns.zone", "morgana.dns.server", "morgana.dns.app")


async def main(env):
    from morgana.dns import app
    if env.get("ZONE_AT") == "build":
        import zone_data
        zones = app.zones_from_modules([zone_data])
    else:
        zones = app.zones_from_files([env.get("ZONE")])
    await app.serve_forever(env.stack, zones, env.get("PORT"), env.get("STATS_EVERY"),
                            log=env.log.info, edns_size=env.get("EDNS_SIZE"),
                            tcp_idle=env.get("TCP_IDLE"))
