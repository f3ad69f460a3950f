# morgana.dns.zone: master-file parsing of configs/zones/example.zone and error reports.
import struct
from morgana.dns import wire, zone
from morgana.dns.zone import ZoneError, parse_zone
from dns_fixture import raises, n, example_zone_path

HEAD = "$ORIGIN example.test.\n$TTL 60\n@ SOA ns1 host 1 2 3 4 5\n"


def _rr(z, name, rtype):
    node = z.nodes.get(n(name).lower())
    assert node is not None, name
    return node.get(rtype)


def test_example_zone_every_type():
    z = zone.load_zone(example_zone_path())
    assert z.origin == n("example.test.")
    owner, ttl, rds = z.soa
    assert ttl == 3600
    assert rds[0] == n("ns1.example.test.") + n("hostmaster.example.test.") + \
        struct.pack(">IIIII", 2026112401, 7200, 3600, 604800, 300)
    assert _rr(z, "example.test.", wire.NS)[2] == [n("ns1.example.test."), n("ns2.example.test.")]
    assert _rr(z, "example.test.", wire.MX)[2] == [b"\x00\x0a" + n("mail.example.test."),
                                                   b"\x00\x14" + n("mail2.example.test.")]
    assert _rr(z, "example.test.", wire.A)[2] == [b"\xc0\x00\x02\x01"]
    assert _rr(z, "example.test.", wire.AAAA)[2] == [b"\x20\x01\x0d\xb8" + bytes(11) + b"\x01"]
    assert _rr(z, "ns2.example.test.", wire.A)[1] == 600       # owner TTL class A
    assert _rr(z, "mail2.example.test.", wire.A)[1] == 300     # owner class TTL A
    assert _rr(z, "www.example.test.", wire.CNAME)[2] == [n("example.test.")]
    assert _rr(z, "host6.example.test.", wire.AAAA)[2] == [bytes(10) + b"\xff\xff\xc0\x00\x02\x07"]
    txt = _rr(z, "txt.example.test.", wire.TXT)[2]
    assert txt[0] == b"\x0bhello world\x0dsecond string\x08unquoted"
    assert txt[1] == b'\x23with "quotes" and \\ and ; semicolon'
    big = _rr(z, "big.example.test.", wire.TXT)[2][0]
    assert len(big) == 4 * 201
    assert _rr(z, "_sip._tcp.example.test.", wire.SRV)[2] == [
        struct.pack(">HHH", 10, 60, 5060) + n("sip.example.test.")]
    assert _rr(z, "1.2.0.192.in-addr.arpa.example.test.", wire.PTR)[2] == [n("www.example.test.")]
    # the names between deep.empty.nonterminal and the apex exist without data
    assert z.nodes[n("empty.nonterminal.example.test.")] == {}
    assert z.nodes[n("nonterminal.example.test.")] == {}


def test_omitted_owner_origin_ttl_and_parentheses():
    z = parse_zone(HEAD + "a 10 A 1.2.3.4\n  A 1.2.3.5 ; same owner\n"
                   "$ORIGIN sub.example.test.\nb ( MX\n 5\n c )\n   TXT x\n"
                   "$TTL 1h\nd A 9.9.9.9\nE.SUB.example.test. IN 7 A 1.1.1.1\n")
    assert _rr(z, "a.example.test.", wire.A) == [n("a.example.test."), 10,
                                                [b"\x01\x02\x03\x04", b"\x01\x02\x03\x05"]]
    assert _rr(z, "b.sub.example.test.", wire.MX)[2] == [b"\x00\x05" + n("c.sub.example.test.")]
    assert _rr(z, "b.sub.example.test.", wire.TXT)[1] == 60      # $TTL wins over the last TTL
    assert _rr(z, "d.sub.example.test.", wire.A)[1] == 3600
    assert _rr(z, "e.sub.example.test.", wire.A)[1] == 7
    assert z.nodes[n("sub.example.test.")] == {}                # empty non-terminal


def test_generic_rdata_and_duplicates():
    z = parse_zone(HEAD + "g TYPE65280 \\# 3 abcdef\ng A 1.2.3.4\ng A 1.2.3.4\n"
                   "h A \\# 4 01020304\n")
    assert _rr(z, "g.example.test.", 65280)[2] == [b"\xab\xcd\xef"]
    assert _rr(z, "g.example.test.", wire.A)[2] == [b"\x01\x02\x03\x04"]
    assert _rr(z, "h.example.test.", wire.A)[2] == [b"\x01\x02\x03\x04"]


def test_ipv6_forms():
    p = zone.parse_ipv6
    assert p("::") == bytes(16)
    assert p("::1") == bytes(15) + b"\x01"
    assert p("1::") == b"\x00\x01" + bytes(14)
    assert p("1:2:3:4:5:6:7:8") == b"".join(struct.pack(">H", i) for i in range(1, 9))
    assert p("::ffff:1.2.3.4") == bytes(10) + b"\xff\xff\x01\x02\x03\x04"
    assert p("1:2:3:4:5:6:1.2.3.4")[12:] == b"\x01\x02\x03\x04"
    for bad in ("1:2:3:4:5:6:7", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "g::",
                "0x1::", "1:2:3:4:5:6:7::8", "::1.2.3", ":1:2:3:4:5:6:7"):
        raises(zone.FieldError, p, bad)


def _err(text, fname="t.zone"):
    return raises(ZoneError, parse_zone, text, None, fname)


def test_errors_name_file_line_and_field():
    e = _err(HEAD + "x A 1.2.3\n")
    assert e.filename == "t.zone" and e.line == 4 and e.field == "address", str(e)
    assert str(e).startswith("t.zone:4: address:")
    assert _err(HEAD + "x MX ten mail\n").field == "preference"
    assert _err(HEAD + "x SRV 1 2 70000 t\n").field == "port"
    assert _err(HEAD + "x BOGUS 1\n").field == "type"
    assert _err(HEAD + "x A 1.2.3.4 5.6.7.8\n").field == "rdata"
    assert _err(HEAD + "x CH A 1.2.3.4\n").field == "class"
    assert _err(HEAD + "x 9999999999 A 1.2.3.4\n").field == "ttl"
    assert _err(HEAD + "x TXT \"" + "y" * 256 + "\"\n").field == "text"
    e = _err(HEAD + "\n\nx TXT \"open\n")
    assert e.line == 6 and e.field == "syntax"
    e = _err(HEAD + "x MX ( 1\n mail\n")
    assert e.line == 4 and e.field == "syntax"
    assert _err(HEAD + "x A 1.2.3.4 )\n").field == "syntax"
    assert _err(HEAD + "other.test. A 1.2.3.4\n").field == "owner"
    e = _err(HEAD + "w CNAME x\nw A 1.2.3.4\n")
    assert e.line == 5 and e.field == "type"
    assert _err(HEAD + "w A 1.2.3.4\nw CNAME x\n").field == "type"
    assert _err("$ORIGIN example.test.\n$TTL 1\nw A 1.2.3.4\n").field == "type"  # no SOA first
    assert _err(HEAD + "$INCLUDE other\n").field == "directive"
    assert _err("@ 60 SOA a b 1 2 3 4 5\n").field == "owner"      # '@' with no origin
    e = _err("example.test. SOA ns.t. h.t. 1 2 3 4 5\nx.example.test. A 1.2.3.4\n")
    assert e.line == 2 and e.field == "ttl"  # SOA takes its minimum, later records need one
    assert _err("  A 1.2.3.4\n").field == "owner"
    assert _err("").field == "SOA"
    assert _err(HEAD + "x A \\# 3 010203\n").field == "rdata"
    assert _err(HEAD + "sub SOA a b 1 2 3 4 5\n").field == "type"


def test_load_zone_error_names_the_path():
    import os
    path = "/tmp/morgana_bad_%d.zone" % os.getpid() if hasattr(os, "getpid") else "/tmp/morgana_bad.zone"
    with open(path, "w") as f:
        f.write(HEAD + "www A 300.1.1.1\n")
    e = raises(ZoneError, zone.load_zone, path)
    os.remove(path)
    assert str(e).startswith(path + ":4: address:"), str(e)
