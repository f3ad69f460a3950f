# ARP codec and the neighbour table: expiry, bounded pending queue, probing.
from morgana.net import Drop, arp

M1 = b"\x02\x00\x00\x00\x00\x01"
M2 = b"\x02\x00\x00\x00\x00\x02"


def test_codec_roundtrip():
    p = arp.build(arp.REQUEST, M1, 0x0A000001, bytes(6), 0x0A000002)
    assert len(p) == 28
    assert arp.parse(p) == (arp.REQUEST, M1, 0x0A000001, bytes(6), 0x0A000002)


def test_bad_packets():
    p = bytearray(arp.build(arp.REPLY, M1, 1, M2, 2))
    cases = [(p[:27], "arp_truncated")]
    q = bytearray(p)
    q[5] = 16  # plen 16: not IPv4
    cases.append((q, "arp_unsupported"))
    q = bytearray(p)
    q[7] = 9
    cases.append((q, "arp_bad_op"))
    for buf, reason in cases:
        try:
            arp.parse(buf)
            assert False
        except Drop as e:
            assert e.reason == reason


def test_entries_expire():
    t = arp.ArpTable(ttl=10)
    t.update(5, M1, 0)
    assert t.lookup(5, 9.0) == M1
    assert t.lookup(5, 11.0) is None
    t.update(5, M1, 20)
    assert t.tick(31.0) == ([], 0) and t.lookup(5, 25) is None


def test_pending_queue_bounded_and_flushed():
    t = arp.ArpTable(max_pending=2, max_waiting=1)
    assert t.park(7, b"a", 0) == "probe"
    assert t.park(7, b"b", 0) == "queued"
    assert t.park(7, b"c", 0) == "dropped"
    assert t.park(8, b"x", 0) == "dropped"  # too many addresses being resolved
    assert t.update(7, M2, 0.5) == [b"a", b"b"]
    assert t.lookup(7, 1) == M2


def test_probe_retries_then_gives_up():
    t = arp.ArpTable(probes=3, probe_interval=1.0)
    t.park(9, b"p", 0)
    assert t.tick(0.5) == ([], 0)
    assert t.tick(1.1) == ([9], 0)
    assert t.tick(2.2) == ([9], 0)
    assert t.tick(3.3) == ([], 1)
    assert not t.waiting


def test_refresh_only_merges_known():
    t = arp.ArpTable()
    assert t.refresh_only(3, M1, 0) == [] and t.lookup(3, 0) is None
    t.update(3, M1, 0)
    t.refresh_only(3, M2, 1)
    assert t.lookup(3, 1) == M2


def test_entry_in_use_refreshed_before_expiry():
    t = arp.ArpTable(ttl=8)  # refresh in the last 2 s
    t.update(4, M1, 0)
    t.update(5, M2, 0)
    assert t.tick(5.0) == ([], 0)
    t.lookup(4, 6.5)  # 4 is in use, 5 is not
    assert t.tick(6.6) == ([4], 0)
    assert t.tick(6.7) == ([], 0)  # once per use period
    t.update(4, M1, 6.8)  # the reply renews it
    assert t.lookup(4, 10.0) == M1 and t.lookup(5, 10.0) is None


def test_table_size_bounded_oldest_evicted():
    t = arp.ArpTable(max_entries=4)
    for i in range(10):
        t.update(100 + i, M1, float(i))
    assert len(t.entries) == 4 and t.evicted == 6
    assert sorted(t.entries) == [106, 107, 108, 109]
