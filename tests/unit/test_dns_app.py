# morgana.dns.app: zones from compiled modules or files, serving on a stack, stats log.
from morgana import sched
from morgana.dns import app, compile as dnscompile, wire, zone
from dns_fixture import query, example_zone_path, FakeStack


class _Mod:
    pass


def _compiled_module():
    ns = {}
    exec(dnscompile.module_source(zone.load_zone(example_zone_path())), ns)
    m = _Mod()
    m.ORIGIN = ns["ORIGIN"]
    m.RECORDS = ns["RECORDS"]
    return m


def test_start_serves_compiled_zone_on_the_stack():
    st = FakeStack()
    logs = []
    box = []

    async def go():
        srv = app.start(st, app.zones_from_modules([_compiled_module()]), 5300, log=logs.append)
        st.udp[5300](query("mail.example.test.", wire.A, id=3), "10.1.1.1", 999)
        await sched.sleep(0)
        box.append(srv)

    sched.run(go())
    assert 5300 in st.udp and 5300 in st.tcp
    assert logs and "example.test." in logs[0] and "5300" in logs[0]
    m = wire.parse_message(st.sent[0][0])
    assert m.id == 3 and m.answer[0][4] == b"\xc0\x00\x02\x19"
    assert box[0].stats["noerror"] == 1


def test_zones_from_files_and_bad_file_error():
    zs = app.zones_from_files([example_zone_path()])
    assert len(zs) == 1 and zs[0].origin == wire.name_from_text("example.test.")
    try:
        app.zones_from_files(["/nonexistent/zone"])
    except OSError:
        pass
    else:
        raise AssertionError("missing zone file accepted")


def test_serve_forever_logs_stats_until_cancelled():
    st = FakeStack()
    logs = []

    async def go():
        await sched.with_timeout(0.08, app.serve_forever(
            st, app.zones_from_files([example_zone_path()]), 5301, stats_every=0.02,
            log=logs.append))

    try:
        sched.run(go())
    except sched.Timeout:
        pass
    else:
        raise AssertionError("serve_forever returned")
    assert 5301 in st.udp
    assert len([x for x in logs if x.startswith("dns: {")]) >= 2, logs
