# The dig (Debian dnsutils) matrix against a DNS server serving configs/zones/example.zone
# on 127.0.0.1: every record, referral, flags, NXDOMAIN/NODATA/REFUSED, wildcard, TCP with
# several queries a connection, truncation and TCP retry, EDNS, malformed queries, idle
# TCP close. The test functions take a `server` fixture (the port, UDP and TCP) that the
# module running them provides: `from dig_matrix import *` in test_dig.py (host sockets)
# and in test_dns_xen.py (the xen-x86_64 guest through QEMU's port forwards).
#
# Kept in a module of its own, not imported from test_dig.py, so each target's file reads
# alone: one fixture named `server`, no second copy of test_dig's unix fixture, skips or
# runner paths in the Xen file, and pytest collects the matrix once per file that asks.
import os
import shutil
import socket
import struct
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "pylib"))
from morgana.dns import wire, zone  # noqa: E402

ZONE = os.path.join(ROOT, "configs", "zones", "example.zone")
IDLE = 1.0  # seconds a TCP client may stay silent: serve with TCP_IDLE=IDLE
# Seconds dig (+time) and a raw UDP query wait for an answer. A fixture serving through a
# slower path may raise it for its module (and must put it back when it ends).
WAIT = 2

if not shutil.which("dig"):
    pytest.skip("dig not installed (apt-get install dnsutils)", allow_module_level=True)


def dig(port, *args):
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+time=%d" % WAIT,
                          "+tries=1"] + list(args), capture_output=True, text=True,
                         timeout=20 + 4 * WAIT)
    return out.stdout


def answer_rdata(text, name, tname):
    """Answer lines of dig +noall +answer for (name, type) -> [(ttl, rdata wire)]."""
    got = []
    for line in text.splitlines():
        if not line.strip() or line.startswith(";"):
            continue
        for _, _, toks in zone._entries(line + "\n", "dig"):
            owner, ttl, cls, typ = toks[0][0], int(toks[1][0]), toks[2][0], toks[3][0]
            assert cls == "IN"
            if owner.lower() == name.lower() and typ == tname:
                got.append((ttl, zone.rdata_from_text(wire.TYPE_CODES[typ], toks[4:], None)))
    return got


def _below_cut(z, key):
    return any(wire.is_subdomain(key, c) for c in z.cuts)


def test_every_record_of_the_zone(server):
    z = zone.load_zone(ZONE)
    checked = 0
    for key, node in z.nodes.items():
        for rtype, (owner, ttl, rdatas) in node.items():
            name = wire.name_to_text(owner)
            tname = wire.TYPE_NAMES[rtype]
            if _below_cut(z, key):  # delegated: the record comes back in a referral
                out = dig(server, "+norec", "+noall", "+authority", "+additional", name, tname)
            else:
                out = dig(server, "+norec", "+noall", "+answer", name, tname)
            got = answer_rdata(out, name, tname)
            assert sorted(got) == sorted((ttl, rd) for rd in rdatas), (name, tname, out)
            checked += len(rdatas)
    assert checked == len(list(z.records())) == 33  # the zone file holds 33 records


def test_referral_for_a_delegated_name(server):
    out = dig(server, "+norec", "www.child.example.test", "A")
    flags = out.split("flags:")[1].split(";")[0]
    assert "status: NOERROR" in out and " aa" not in flags and "ANSWER: 0" in out
    assert "child.example.test.\t3600\tIN\tNS\tns.child.example.test." in out
    assert "ns.child.example.test.\t3600\tIN\tA\t192.0.2.100" in out


def test_header_flags_and_known_answers(server):
    out = dig(server, "+norec", "sip.example.test", "A")
    assert "status: NOERROR" in out and "flags: qr aa;" in out
    assert dig(server, "+short", "example.test", "MX").split("\n")[:2] == [
        "10 mail.example.test.", "20 mail2.example.test."]
    assert dig(server, "+short", "ftp.example.test", "A").split() == [
        "www.example.test.", "example.test.", "192.0.2.1"]
    out = dig(server, "+norec", "example.test", "NS")
    assert "ns1.example.test.\t3600\tIN\tA\t192.0.2.53" in out  # additional section
    assert "ADDITIONAL: 4" in out  # ns1 A + AAAA, ns2 A, OPT


def test_nxdomain_nodata_refused(server):
    out = dig(server, "nothing.example.test", "A")
    assert "status: NXDOMAIN" in out and "AUTHORITY: 1" in out
    assert "example.test.\t\t300\tIN\tSOA\tns1.example.test." in out
    out = dig(server, "mail.example.test", "AAAA")
    assert "status: NOERROR" in out and "ANSWER: 0, AUTHORITY: 1" in out
    out = dig(server, "empty.nonterminal.example.test", "A")
    assert "status: NOERROR" in out and "ANSWER: 0" in out
    out = dig(server, "www.example.org", "A")
    assert "status: REFUSED" in out and " aa" not in out.split("flags:")[1].split(";")[0]


def test_wildcard(server):
    out = dig(server, "+norec", "+noall", "+answer", "anything.wild.example.test", "A")
    assert out.split() == ["anything.wild.example.test.", "3600", "IN", "A", "192.0.2.77"]
    out = dig(server, "x.sub.wild.example.test", "A")
    assert "status: NXDOMAIN" in out


def test_tcp_and_several_queries_per_connection(server):
    out = dig(server, "+tcp", "+keepopen", "sip.example.test", "A", "mail.example.test", "A")
    assert "sip.example.test.\t3600\tIN\tA\t192.0.2.60" in out
    assert "mail.example.test.\t3600\tIN\tA\t192.0.2.25" in out
    # raw: two queries pipelined in one write, two framed answers back in order
    q1 = _query("sip.example.test.", 1, 101)
    q2 = _query("big.example.test.", 16, 102)
    s = socket.create_connection(("127.0.0.1", server), timeout=5)
    s.sendall(struct.pack(">H", len(q1)) + q1 + struct.pack(">H", len(q2)) + q2)
    ids = []
    for _ in range(2):
        n = struct.unpack(">H", _recv(s, 2))[0]
        m = wire.parse_message(_recv(s, n))
        assert not m.flags & wire.TC and len(m.answer) == 1
        ids.append(m.id)
    s.close()
    assert ids == [101, 102]


def test_bufsize_truncation_then_tcp_retry(server):
    out = dig(server, "+bufsize=512", "big.example.test", "TXT")
    assert "Truncated, retrying in TCP mode" in out and "ANSWER: 1" in out
    out = dig(server, "+ignore", "+bufsize=512", "big.example.test", "TXT")
    assert "flags: qr aa tc rd;" in out and "ANSWER: 0" in out
    out = dig(server, "+ignore", "+noedns", "big.example.test", "TXT")
    assert "flags: qr aa tc rd;" in out
    out = dig(server, "+bufsize=1232", "big.example.test", "TXT")  # fits: no TCP needed
    assert "Truncated" not in out and "ANSWER: 1" in out and "udp: 1232" in out


def test_edns_version_and_opcode(server):
    out = dig(server, "+edns=1", "+noednsnegotiation", "www.example.test")
    assert "status: BADVERS" in out
    out = dig(server, "+opcode=status", "www.example.test")
    assert "status: NOTIMP" in out


def _query(name, qtype, qid, tail=b""):
    return struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0) + wire.name_from_text(name) + \
        struct.pack(">HH", qtype, 1) + tail


def _recv(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        assert c, "connection closed early"
        b += c
    return b


def _udp(port, data, timeout=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(WAIT if timeout is None else timeout)
    s.sendto(data, ("127.0.0.1", port))
    try:
        return s.recv(4096)
    except socket.timeout:
        return None
    finally:
        s.close()


def test_malformed_queries_formerr_or_dropped(server):
    r = _udp(server, _query("www.example.test.", 1, 77, tail=b"junk"))
    m = wire.parse_message(r)
    assert m.id == 77 and m.rcode() == wire.FORMERR
    r = _udp(server, struct.pack(">HHHHHH", 78, 0, 2, 0, 0, 0) + b"\x00\x00\x01\x00\x01")
    assert wire.parse_message(r).rcode() == wire.FORMERR
    r = _udp(server, struct.pack(">HHHHHH", 79, 0, 1, 0, 0, 0) + b"\xc0\x0c\x00\x01\x00\x01")
    assert wire.parse_message(r).rcode() == wire.FORMERR  # pointer loop in the question
    assert _udp(server, b"\x01\x02\x03", timeout=0.5) is None  # no header: dropped
    # and the server is still serving
    assert "192.0.2.60" in dig(server, "+short", "sip.example.test")


def test_idle_tcp_connection_is_closed(server):
    s = socket.create_connection(("127.0.0.1", server), timeout=5)
    t0 = time.time()
    assert s.recv(10) == b""  # the server hung up on us
    waited = time.time() - t0
    s.close()
    assert IDLE * 0.8 <= waited < IDLE + 3, waited


# what `from dig_matrix import *` gives a test module: the tests, not the helpers
__all__ = [name for name in list(globals()) if name.startswith("test_")]  # in file order
