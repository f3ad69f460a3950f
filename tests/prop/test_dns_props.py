# Property tests (CPython + hypothesis) for morgana.dns: hostile bytes never escape the
# defined errors, and valid messages survive a build/parse round trip.
import struct

from hypothesis import given, settings, strategies as st

from morgana.dns import wire, zone
from morgana.dns.server import DnsServer
from morgana.dns.wire import WireError

EXAMPLE = "configs/zones/example.zone"
SERVER = DnsServer([zone.load_zone(EXAMPLE)])

# a few shared labels (in two cases) make compression pointers likely
labels = st.one_of(st.binary(min_size=1, max_size=63),
                   st.sampled_from([b"www", b"WWW", b"example", b"eXample", b"test", b"a"]))


@st.composite
def names(draw):
    out = b""
    for lab in draw(st.lists(labels, max_size=6)):
        if len(out) + 1 + len(lab) + 1 > 255:
            break
        out += bytes([len(lab)]) + lab
    return out + b"\x00"


@st.composite
def rdatas(draw, rtype):
    if rtype == wire.A:
        return draw(st.binary(min_size=4, max_size=4))
    if rtype == wire.AAAA:
        return draw(st.binary(min_size=16, max_size=16))
    if rtype in (wire.NS, wire.CNAME, wire.PTR):
        return draw(names())
    if rtype == wire.MX:
        return draw(st.binary(min_size=2, max_size=2)) + draw(names())
    if rtype == wire.SRV:
        return draw(st.binary(min_size=6, max_size=6)) + draw(names())
    if rtype == wire.SOA:
        return draw(names()) + draw(names()) + draw(st.binary(min_size=20, max_size=20))
    if rtype == wire.TXT:
        strs = draw(st.lists(st.binary(max_size=255), min_size=1, max_size=3))
        return b"".join(bytes([len(s)]) + s for s in strs)
    return draw(st.binary(max_size=40))  # unknown type: opaque


@st.composite
def records(draw):
    rtype = draw(st.sampled_from([wire.A, wire.AAAA, wire.NS, wire.CNAME, wire.PTR, wire.MX,
                                  wire.SRV, wire.SOA, wire.TXT, 99, 65280]))
    return (draw(names()), rtype, draw(st.sampled_from([1, 3, 255])),
            draw(st.integers(0, 2 ** 32 - 1)), draw(rdatas(rtype)))


@st.composite
def messages(draw):
    m = wire.Message(draw(st.integers(0, 65535)), draw(st.integers(0, 65535)))
    m.question = draw(st.lists(st.tuples(names(), st.integers(0, 65535), st.integers(0, 65535)),
                               max_size=2))
    m.answer = draw(st.lists(records(), max_size=4))
    m.authority = draw(st.lists(records(), max_size=2))
    m.additional = draw(st.lists(records(), max_size=2))
    return m


def _canon(rr):
    # compression matches names case-insensitively (RFC 1035 2.3.3), so compare that way
    name, t, c, ttl, rd = rr
    return name.lower(), t, c, ttl, (rd.lower() if t in wire.COMPRESSIBLE else rd)


@settings(max_examples=300, deadline=None)
@given(messages())
def test_valid_messages_round_trip(m):
    plain = wire.build_message(m, False)
    p = wire.parse_message(plain)  # uncompressed: exact
    assert (p.id, p.flags) == (m.id, m.flags)
    assert (p.question, p.answer, p.authority, p.additional) == \
        (m.question, m.answer, m.authority, m.additional)
    packed = wire.build_message(m)
    assert len(packed) <= len(plain)
    p = wire.parse_message(packed)
    assert [(q[0].lower(), q[1], q[2]) for q in p.question] == \
        [(q[0].lower(), q[1], q[2]) for q in m.question]
    for got, want in ((p.answer, m.answer), (p.authority, m.authority),
                      (p.additional, m.additional)):
        assert [_canon(r) for r in got] == [_canon(r) for r in want]


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_only_raise_wire_error(data):
    try:
        wire.parse_message(data)
    except WireError:
        pass
    try:
        wire.read_name(data, 0)
    except WireError:
        pass


def _check_response(q, r):
    if r is None:
        return
    m = wire.parse_message(r)  # every response we send is well-formed
    assert m.id == struct.unpack(">H", q[:2])[0]
    assert m.flags & wire.QR


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300), st.booleans())
def test_server_never_crashes_on_random_bytes(data, tcp):
    _check_response(data, SERVER.handle(data, tcp))


def _q(name, qtype):
    m = wire.Message(0x4242, wire.RD)
    m.question.append((wire.name_from_text(name), qtype, 1))
    m.additional.append((b"\x00", wire.OPT, 1232, 0, b""))
    return wire.build_message(m)


SEEDS = [_q("www.example.test.", wire.A), _q("big.example.test.", wire.TXT),
         _q("example.test.", wire.MX), _q("x.example.net.", wire.A),
         _q("a.b.wild.example.test.", wire.TXT), _q("www.child.example.test.", wire.A),
         _q("ftp.example.test.", wire.ANY)]


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)),
                                         min_size=1, max_size=4), st.integers(0, 80))
def test_server_survives_mutated_queries(seed, flips, cut):
    q = bytearray(seed)
    for pos, val in flips:
        q[pos % len(q)] = val
    q = bytes(q[:len(q) - cut % len(q)])
    _check_response(q, SERVER.handle(q))
    _check_response(q, SERVER.handle(q, True))


@settings(max_examples=300, deadline=None)
@given(names())
def test_name_text_round_trip(name):
    assert wire.name_from_text(wire.name_to_text(name)) == name


ZONE_ALPHABET = st.sampled_from(list("abc019.@$;()\"\\ \t\n:") +
                                ["SOA", "A", "MX", "TXT", "AAAA", "IN", "$TTL", "$ORIGIN", "\\#"])


@settings(max_examples=300, deadline=None)
@given(st.lists(ZONE_ALPHABET, max_size=60))
def test_zone_parser_only_raises_zone_error(parts):
    text = "$ORIGIN example.test.\n@ 60 SOA ns host 1 2 3 4 5\n" + "".join(parts)
    try:
        zone.parse_zone(text, None, "fuzz.zone")
    except zone.ZoneError as e:
        assert str(e).startswith("fuzz.zone:")
