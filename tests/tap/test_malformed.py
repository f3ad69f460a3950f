# Malformed frames crafted with scapy never crash the stack: each category shows up in
# the drop counters and the stack keeps answering ping afterwards.
import os
import netns

MAC = "02:00:00:00:00:02"
HERE = os.path.dirname(os.path.abspath(__file__))


def test_malformed_flood_counted_and_survived(ns, impl):
    st = netns.OurStack(ns, impl, ["--ip", "10.0.0.2/24", "--mac", MAC,
                                   "--serve-bytes", "80:1000"])
    assert netns.ping(ns, st.ip, 3)[1] == 3
    out = ns.run(netns.CPYTHON, os.path.join(HERE, "malformed.py"), MAC, st.ip, "10.0.0.1",
                 "300", timeout=120)
    sent = dict((l.split()[0], int(l.split()[1])) for l in out.stdout.splitlines())
    assert sent["fuzz"] == 300 and sent["syn_storm"] == 500
    # service continues
    sent_n, got = netns.ping(ns, st.ip, 20)
    assert got == 20, (got, st.stderr()[-2000:])
    assert st.alive()
    s = st.stats()
    assert s.get("rx_exception", 0) == 0, st.stderr()[-3000:]
    assert s["ipv4_bad_csum"] >= 20
    assert s["ipv4_truncated"] >= 4 + 2  # short packets and IHL/length lies
    assert s["ipv4_bad_length"] >= 1
    assert s["ipv4_bad_ihl"] >= 2
    assert s["ipv4_bad_version"] >= 5
    assert s["frag_overlap"] >= 10
    assert s["frag_too_big"] + s.get("frag_bad_len", 0) >= 2
    assert s.get("frag_evicted", 0) >= 200  # the 300 incomplete datagrams are bounded
    assert s["udp_bad_csum"] >= 10 and s["udp_bad_length"] >= 2
    assert s["icmp_bad_csum"] >= 10
    assert s["arp_offlink_sender"] >= 1000 and s["arp_replies"] >= 100
    assert s["tcp_syn_in"] >= 500 and s["tcp_rst_no_flow"] >= 500
    assert s["arp_unsupported"] + s["arp_bad_op"] + s["arp_truncated"] >= 3
    netns.check_heap(s, "%s malformed" % impl, st.stderr())
