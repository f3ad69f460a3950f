# morgana.dns.wire: names, compression, bounds checks, message round trips.
import struct
from morgana.dns import wire
from morgana.dns.wire import WireError
from dns_fixture import raises, n


def test_name_text_round_trip():
    assert n("www.example.test.") == b"\x03www\x07example\x04test\x00"
    assert wire.name_to_text(b"\x03www\x07example\x04test\x00") == "www.example.test."
    assert n(".") == b"\x00"
    assert wire.name_to_text(b"\x00") == "."
    org = n("example.test.")
    assert wire.name_from_text("www", org) == n("www.example.test.")
    assert wire.name_from_text("@", org) == org
    # escapes: \. keeps the dot inside a label, \DDD is a byte
    assert wire.name_from_text("a\\.b.c.") == b"\x03a.b\x01c\x00"
    assert wire.name_from_text("\\065x.") == b"\x02Ax\x00"
    assert wire.name_to_text(b"\x03a.b\x00") == "a\\046b."


def test_name_text_errors():
    raises(ValueError, wire.name_from_text, "a..b.")
    raises(ValueError, wire.name_from_text, "x" * 64 + ".")
    raises(ValueError, wire.name_from_text, ("x" * 63 + ".") * 4 + "x.")  # > 255 bytes
    raises(ValueError, wire.name_from_text, "rel")  # relative without origin
    raises(ValueError, wire.name_from_text, "\\256.")


def test_read_name_compression():
    buf = b"\x00" * 12 + b"\x07example\x04test\x00" + b"\x03www\xc0\x0c"
    name, end = wire.read_name(buf, 26)
    assert name == n("www.example.test.")
    assert end == len(buf)
    name, end = wire.read_name(buf, 12)
    assert name == n("example.test.") and end == 26


def test_read_name_rejects_loops_and_overruns():
    raises(WireError, wire.read_name, b"\xc0\x00", 0)            # points at itself
    raises(WireError, wire.read_name, b"\x00\x00\xc0\x04\xc0\x02", 2)  # forward pointer
    raises(WireError, wire.read_name, b"\x01a\xc0\x02\xc0\x00", 2)     # a->b->a cycle
    raises(WireError, wire.read_name, b"\x05ab", 0)             # label past the end
    raises(WireError, wire.read_name, b"\x01a", 0)              # no root label
    raises(WireError, wire.read_name, b"\xc0", 0)               # half a pointer
    raises(WireError, wire.read_name, b"\x41abc\x00", 0)        # label type 01 (reserved)
    long_name = (b"\x3f" + b"x" * 63) * 4 + b"\x00"             # 257 bytes
    raises(WireError, wire.read_name, long_name, 0)


def test_is_subdomain_on_label_boundaries():
    org = n("example.test.")
    assert wire.is_subdomain(n("a.example.test."), org)
    assert wire.is_subdomain(org, org)
    assert not wire.is_subdomain(n("test."), org)
    # a binary label whose tail looks like the origin is not below it
    fake = b"\x0dx" + org[:-1] + b"\x00"
    assert fake.endswith(org[1:]) and not wire.is_subdomain(fake, org)


def _msg():
    m = wire.Message(0xBEEF, wire.QR | wire.AA)
    m.question.append((n("www.example.test."), wire.A, wire.IN))
    m.answer.append((n("www.example.test."), wire.CNAME, wire.IN, 60, n("example.test.")))
    m.answer.append((n("example.test."), wire.A, wire.IN, 60, b"\xc0\x00\x02\x01"))
    m.authority.append((n("example.test."), wire.SOA, wire.IN, 300,
                        n("ns1.example.test.") + n("hostmaster.example.test.") + bytes(20)))
    m.additional.append((n("example.test."), wire.MX, wire.IN, 60, b"\x00\x0a" + n("mail.example.test.")))
    m.additional.append((n("_s._tcp.example.test."), wire.SRV, wire.IN, 60,
                         b"\x00\x01\x00\x02\x00\x03" + n("sip.example.test.")))
    return m


def test_message_round_trip_with_compression():
    m = _msg()
    packed = wire.build_message(m)
    plain = wire.build_message(m, compress=False)
    assert len(packed) < len(plain) - 40  # compression saved the repeated suffixes
    for buf in (packed, plain):
        p = wire.parse_message(buf)
        assert p.id == 0xBEEF and p.flags == m.flags
        assert p.question == m.question
        assert p.answer == m.answer
        assert p.authority == m.authority
        assert p.additional == m.additional
    # SRV targets are never compressed (RFC 2782 / 3597)
    assert b"\x03sip\x07example\x04test\x00" in packed


def test_parse_message_bounds():
    good = wire.build_message(_msg())
    raises(WireError, wire.parse_message, good[:11])
    raises(WireError, wire.parse_message, good + b"\x00")       # trailing byte
    for cut in range(12, len(good), 7):                          # every truncation fails
        raises(WireError, wire.parse_message, good[:cut])
    hdr = struct.pack(">HHHHHH", 1, 0, 0, 1, 0, 0)
    rr = b"\x00" + struct.pack(">HHIH", wire.A, 1, 0, 3) + b"\x01\x02\x03"
    raises(WireError, wire.parse_message, hdr + rr)              # A of 3 bytes
    rr = b"\x00" + struct.pack(">HHIH", wire.TXT, 1, 0, 2) + b"\x05a"
    raises(WireError, wire.parse_message, hdr + rr)              # TXT string overruns
    rr = b"\x00" + struct.pack(">HHIH", wire.MX, 1, 0, 5) + b"\x00\x01\x00\x00\x00"
    raises(WireError, wire.parse_message, hdr + rr)              # bytes after MX name
    rr = b"\x00" + struct.pack(">HHIH", wire.A, 1, 0, 40) + b"\x01\x02\x03\x04"
    raises(WireError, wire.parse_message, hdr + rr)              # rdlength past the end
