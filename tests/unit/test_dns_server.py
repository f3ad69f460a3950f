# morgana.dns.server: answers for configs/zones/example.zone, errors, EDNS, truncation, TCP.
import struct
from morgana.dns import wire, zone
from morgana.dns.server import DnsServer
from dns_fixture import n, query, example_zone_path, FakeFlow, FakeStack, run_coro as _run

_SERVER = []


def server():
    if not _SERVER:
        _SERVER.append(DnsServer([zone.load_zone(example_zone_path())]))
    return _SERVER[0]


def ask(name, qtype, **kw):
    tcp = kw.pop("tcp", False)
    r = server().handle(query(name, qtype, **kw), tcp)
    return wire.parse_message(r)


def rd(m, section="answer"):
    return [(wire.name_to_text(r[0]).lower(), r[1], r[4]) for r in getattr(m, section)]


def test_a_answer_is_authoritative():
    m = ask("sip.example.test.", wire.A)
    assert m.id == 0x1234 and m.flags & wire.QR and m.flags & wire.AA and m.flags & wire.RD
    assert m.rcode() == wire.NOERROR
    assert m.question == [(n("sip.example.test."), wire.A, wire.IN)]
    assert rd(m) == [("sip.example.test.", wire.A, b"\xc0\x00\x02\x3c")]
    assert m.answer[0][3] == 3600 and m.authority == [] and m.additional == []


def test_nxdomain_has_soa_with_negative_ttl():
    m = ask("nope.example.test.", wire.A)
    assert m.rcode() == wire.NXDOMAIN and m.flags & wire.AA and m.answer == []
    assert [(r[0], r[1], r[3]) for r in m.authority] == [(n("example.test."), wire.SOA, 300)]


def test_nodata_and_empty_nonterminal():
    for name in ("mail.example.test.", "nonterminal.example.test."):
        m = ask(name, wire.AAAA)
        assert m.rcode() == wire.NOERROR and m.answer == [], name
        assert m.authority[0][1] == wire.SOA, name


def test_case_insensitive_and_question_case_kept():
    r = server().handle(query("WwW.ExAmPlE.TeSt.", wire.A, flags=0))
    m = wire.parse_message(r)
    assert m.question[0][0] == b"\x03WwW\x07ExAmPlE\x04TeSt\x00"
    assert not m.flags & wire.RD
    assert [x[1] for x in m.answer] == [wire.CNAME, wire.A]


def test_cname_chain_inside_zone():
    m = ask("ftp.example.test.", wire.A)
    assert rd(m) == [("ftp.example.test.", wire.CNAME, n("www.example.test.")),
                     ("www.example.test.", wire.CNAME, n("example.test.")),
                     ("example.test.", wire.A, b"\xc0\x00\x02\x01")]
    m = ask("ftp.example.test.", wire.CNAME)  # asking for the CNAME itself: no chasing
    assert rd(m) == [("ftp.example.test.", wire.CNAME, n("www.example.test."))]


def test_cname_out_of_zone_loop_and_dangling():
    m = ask("alias.example.test.", wire.A)
    assert m.rcode() == wire.NOERROR and [x[1] for x in m.answer] == [wire.CNAME]
    assert m.authority == []
    m = ask("loop1.example.test.", wire.A)
    assert m.rcode() == wire.NOERROR and len(m.answer) == 2  # each link once, then stop
    m = ask("dangling.example.test.", wire.A)
    assert m.rcode() == wire.NXDOMAIN and [x[1] for x in m.answer] == [wire.CNAME]
    assert m.authority[0][1] == wire.SOA
    m = ask("www.example.test.", wire.TXT)  # chased to the apex TXT
    assert [x[1] for x in m.answer] == [wire.CNAME, wire.TXT]
    m = ask("www.example.test.", wire.SRV)
    assert [x[1] for x in m.answer] == [wire.CNAME] and m.authority[0][1] == wire.SOA


def test_additional_section_for_ns_mx_srv():
    m = ask("example.test.", wire.MX)
    assert len(m.answer) == 2
    assert rd(m, "additional") == [("mail.example.test.", wire.A, b"\xc0\x00\x02\x19"),
                                   ("mail2.example.test.", wire.A, b"\xc0\x00\x02\x1a")]
    m = ask("example.test.", wire.NS)
    assert [(x[0], x[1]) for x in rd(m, "additional")] == [
        ("ns1.example.test.", wire.A), ("ns1.example.test.", wire.AAAA), ("ns2.example.test.", wire.A)]
    m = ask("_sip._tcp.example.test.", wire.SRV)
    assert rd(m, "additional") == [("sip.example.test.", wire.A, b"\xc0\x00\x02\x3c")]


def test_any_returns_every_rrset():
    m = ask("example.test.", wire.ANY)
    types = sorted(set(x[1] for x in m.answer))
    assert types == sorted([wire.A, wire.NS, wire.SOA, wire.MX, wire.TXT, wire.AAAA])


def test_refused_outside_zone_and_for_transfers():
    for name, qt in (("www.example.net.", wire.A), ("test.", wire.SOA),
                     ("example.test.", wire.AXFR)):
        m = ask(name, qt)
        assert m.rcode() == wire.REFUSED and not m.flags & wire.AA and m.answer == [], name
    m = wire.Message(7, 0)
    m.question.append((n("www.example.test."), wire.A, 3))  # class CH
    r = wire.parse_message(server().handle(wire.build_message(m)))
    assert r.rcode() == wire.REFUSED


def test_notimp_for_other_opcodes():
    for opcode in (1, 2, 4, 5):
        r = server().handle(query("www.example.test.", wire.A, flags=opcode << 11))
        m = wire.parse_message(r)
        assert m.rcode() == wire.NOTIMP and (m.flags >> 11) & 15 == opcode


def _formerr(q):
    before = server().stats["formerr"]
    r = server().handle(q)
    m = wire.parse_message(r)
    assert m.rcode() == wire.FORMERR and m.id == struct.unpack(">H", q[:2])[0], q
    assert server().stats["formerr"] == before + 1


def test_malformed_queries_get_formerr():
    good = query("www.example.test.", wire.A)
    _formerr(good + b"\x00")                                    # trailing garbage
    _formerr(good[:-3])                                         # cut inside the question
    _formerr(good[:4] + b"\x00\x02" + good[6:])                 # QDCOUNT 2, one question
    _formerr(good[:4] + b"\x00\x00" + good[6:12])               # no question at all
    _formerr(good[:6] + b"\x00\x01" + good[8:])                 # ANCOUNT 1 in a query
    _formerr(good[:12] + b"\xc0\x0c" + good[-4:])               # pointer in the question
    _formerr(good[:12] + b"\x50abc\x00" + good[-4:])            # bad label type
    _formerr(good[:10] + b"\x00\x01" + good[12:])               # ARCOUNT 1, nothing there
    two_opts = query("www.example.test.", wire.A, edns=1232)
    opt = two_opts[-11:]
    _formerr(two_opts[:10] + b"\x00\x02" + two_opts[12:] + opt)


def test_short_and_response_packets_are_dropped():
    s = server()
    before = s.stats["dropped"]
    assert s.handle(b"") is None and s.handle(b"\x00" * 11) is None
    resp = s.handle(query("www.example.test.", wire.A))
    assert s.handle(resp) is None  # never answer a response: no reflection loops
    assert s.stats["dropped"] == before + 3


def test_edns_opt_and_badvers():
    m = ask("www.example.test.", wire.A, edns=4096, do=True)
    opt = [r for r in m.additional if r[1] == wire.OPT]
    assert len(opt) == 1 and opt[0][2] == 1232 and opt[0][3] & 0x8000  # our size; DO echoed
    m = ask("www.example.test.", wire.A, edns=4096, version=1)
    opt = [r for r in m.additional if r[1] == wire.OPT][0]
    assert m.rcode() == 0 and opt[3] >> 24 == 1  # extended rcode 16 = BADVERS
    assert m.answer == []


def test_truncation_over_udp_and_full_answer_over_tcp():
    m = ask("big.example.test.", wire.TXT)  # no EDNS: 512 bytes
    assert m.flags & wire.TC and m.answer == [] and m.question
    m = ask("big.example.test.", wire.TXT, edns=512)
    assert m.flags & wire.TC and m.answer == []
    r = server().handle(query("big.example.test.", wire.TXT, edns=1232))
    assert len(r) > 512 and len(r) <= 1232
    m = wire.parse_message(r)
    assert not m.flags & wire.TC and len(m.answer) == 1
    m = ask("big.example.test.", wire.TXT, tcp=True)
    assert not m.flags & wire.TC and len(m.answer[0][4]) == 804


def test_cache_gives_same_answer_with_new_id():
    s = server()
    q1 = query("mail.example.test.", wire.A, id=1)
    q2 = query("mail.example.test.", wire.A, id=2)
    r1 = s.handle(q1)
    hits = s.stats["cached"]
    r2 = s.handle(q2)
    assert s.stats["cached"] == hits + 1
    assert r1[:2] == b"\x00\x01" and r2[:2] == b"\x00\x02" and r1[2:] == r2[2:]


def test_cache_is_bounded():
    s = DnsServer([zone.load_zone(example_zone_path())], cache_max=8)
    for i in range(30):
        s.handle(query("n%d.example.test." % i, wire.A))
    assert len(s.cache) <= 8


# ---- the network glue, with fake flows/stack (no scheduler needed: nothing blocks) ----

def test_tcp_framing_several_queries_split_reads():
    q1 = query("sip.example.test.", wire.A, id=11)
    q2 = query("big.example.test.", wire.TXT, id=12)
    stream = struct.pack(">H", len(q1)) + q1 + struct.pack(">H", len(q2)) + q2
    flow = FakeFlow([stream[:1], stream[1:20], stream[20:]])
    _run(server().serve_flow(flow))
    assert flow.closed
    out = flow.out
    l1 = struct.unpack(">H", out[:2])[0]
    m1 = wire.parse_message(out[2:2 + l1])
    l2 = struct.unpack(">H", out[2 + l1:4 + l1])[0]
    m2 = wire.parse_message(out[4 + l1:4 + l1 + l2])
    assert len(out) == 4 + l1 + l2
    assert m1.id == 11 and len(m1.answer) == 1
    assert m2.id == 12 and len(m2.answer) == 1 and not m2.flags & wire.TC


def test_serve_registers_udp_and_tcp():
    from morgana import sched
    st = FakeStack()

    async def go():
        server().serve(st, 5353, tcp_idle=None)
        assert 5353 in st.udp and 5353 in st.tcp
        h = st.udp[5353]
        assert h(query("sip.example.test.", wire.A, id=99), "10.0.0.9", 4444) is None  # sync
        assert h(query("mail.example.test.", wire.A, id=98), "10.0.0.9", 4445) is None
        assert h(b"\x01", "10.0.0.9", 4444) is None  # dropped: nothing queued
        await sched.sleep(0)
        assert len(st.sent) == 2
        data, ip, port, sport = st.sent[0]
        assert (ip, port, sport) == ("10.0.0.9", 4444, 5353)
        assert wire.parse_message(data).id == 99
        assert wire.parse_message(st.sent[1][0]).id == 98 and st.sent[1][2] == 4445
        flow = FakeFlow([struct.pack(">H", 3) + b"abc"])  # a non-query: hang up
        await st.tcp[5353](flow)
        assert flow.closed and flow.out == b""

    sched.run(go())


def test_udp_backlog_is_bounded():
    from morgana import sched
    st = FakeStack()
    s = DnsServer([zone.load_zone(example_zone_path())])

    async def go():
        s.serve(st, 53, tcp_idle=None, backlog=4)
        for i in range(10):  # the sender cannot run in between: 6 are dropped
            st.udp[53](query("sip.example.test.", wire.A, id=i), "10.0.0.1", 1000 + i)
        await sched.sleep(0)

    sched.run(go())
    assert [wire.parse_message(x[0]).id for x in st.sent] == [0, 1, 2, 3]
    assert s.stats["backlog_drop"] == 6


class SilentFlow(FakeFlow):
    """Answers the first read, then never sends again (a client holding the socket)."""

    async def read(self):
        if self.chunks:
            return self.chunks.pop(0)
        from morgana import sched
        return await sched.Promise()  # never woken


def test_tcp_idle_connection_is_closed_by_timeout():
    from morgana import sched
    q = query("sip.example.test.", wire.A, id=5)
    flow = SilentFlow([struct.pack(">H", len(q)) + q])
    t0 = sched.now()
    sched.run(server().serve_flow(flow, 0.05))
    assert flow.closed and sched.now() - t0 >= 0.04
    m = wire.parse_message(flow.out[2:])
    assert m.id == 5 and len(m.answer) == 1


def test_wildcards_synthesize_the_query_name():
    m = ask("x.wild.example.test.", wire.A)
    assert m.rcode() == wire.NOERROR and m.flags & wire.AA
    assert rd(m) == [("x.wild.example.test.", wire.A, b"\xc0\x00\x02\x4d")]
    m = ask("a.b.wild.example.test.", wire.TXT)  # closest encloser is wild: still covered
    assert rd(m) == [("a.b.wild.example.test.", wire.TXT, b"\x0bsynthesized")]
    m = ask("x.wild.example.test.", wire.AAAA)   # covered name, absent type: NODATA
    assert m.rcode() == wire.NOERROR and m.answer == [] and m.authority[0][1] == wire.SOA
    m = ask("sub.wild.example.test.", wire.A)    # exists: its own data, no synthesis
    assert rd(m) == [("sub.wild.example.test.", wire.A, b"\xc0\x00\x02\x4e")]
    m = ask("x.sub.wild.example.test.", wire.A)  # closest encloser sub.wild has no '*'
    assert m.rcode() == wire.NXDOMAIN
    m = ask("wild.example.test.", wire.A)        # the parent itself is an empty non-terminal
    assert m.rcode() == wire.NOERROR and m.answer == []


def test_delegation_gives_a_referral_with_glue():
    for name, qt in (("www.child.example.test.", wire.A), ("child.example.test.", wire.NS),
                     ("ns.child.example.test.", wire.A), ("child.example.test.", wire.MX)):
        m = ask(name, qt)
        assert m.rcode() == wire.NOERROR and not m.flags & wire.AA, name
        assert m.answer == [], name
        assert sorted(rd(m, "authority")) == [
            ("child.example.test.", wire.NS, n("ns.child.example.test.")),
            ("child.example.test.", wire.NS, n("ns1.example.test."))], name
        glue = [x for x in rd(m, "additional") if x[0] == "ns.child.example.test."]
        assert glue == [("ns.child.example.test.", wire.A, b"\xc0\x00\x02\x64")], name
    m = ask("child.example.test.", 43)  # DS lives on the parent side: NODATA, authoritative
    assert m.flags & wire.AA and m.answer == [] and m.authority[0][1] == wire.SOA
    assert server().stats["referral"] >= 4
