# morgana.dns.compile + zonedata: the build-time compiled zone rebuilds the same Zone.
from morgana.dns import compile as dnscompile, wire, zone, zonedata
from morgana.dns.server import DnsServer
from dns_fixture import raises, n, query, example_zone_path


def _compiled():
    z = zone.load_zone(example_zone_path())
    src = dnscompile.module_source(z, "example.zone")
    ns = {}
    exec(src, ns)
    return z, ns


def test_compiled_module_rebuilds_the_zone():
    z, ns = _compiled()
    assert ns["ORIGIN"] == n("example.test.")
    assert len(ns["RECORDS"]) == 33
    z2 = zonedata.from_records(ns["ORIGIN"], ns["RECORDS"])
    assert sorted(z2.nodes) == sorted(z.nodes)
    for key in z.nodes:
        assert z2.nodes[key] == z.nodes[key], key
    assert z2.soa == z.soa


def test_compiled_zone_answers_like_the_parsed_one():
    z, ns = _compiled()
    a = DnsServer([z])
    b = DnsServer([zonedata.from_records(ns["ORIGIN"], ns["RECORDS"])])
    for name, qt in (("example.test.", wire.MX), ("ftp.example.test.", wire.A),
                     ("nx.example.test.", wire.A), ("example.test.", wire.NS)):
        q = query(name, qt)
        assert a.handle(q) == b.handle(q), name


def test_compiled_zone_without_soa_is_rejected():
    e = raises(ValueError, zonedata.from_records, n("x.test."),
               ((n("a.x.test."), wire.A, 1, b"\x01\x02\x03\x04"),))
    assert "no SOA" in str(e)


def test_compile_main_reports_zone_errors():
    import os
    bad = "/tmp/morgana_compile_bad.zone"
    with open(bad, "w") as f:
        f.write("$ORIGIN x.test.\n@ 60 SOA a b 1 2 3 4 5\nw A 1.2.3.999\n")
    try:
        assert dnscompile.main(["compile", bad, "/tmp/morgana_compile_out.py"]) == 1
        assert dnscompile.main(["compile"]) == 2
    finally:
        os.remove(bad)
