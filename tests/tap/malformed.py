# Craft malformed frames with scapy and write them into tap0 (run inside the namespace):
#   python malformed.py DST_MAC DST_IP SRC_IP [fuzz_count]
# Prints one line per category: "<name> <frames sent>". Deterministic (seeded).
import random
import sys

from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw, conf, fuzz  # noqa: E402


def frames(dmac, dip, sip, nfuzz):
    e = Ether(dst=dmac, src="02:00:00:00:00:99")
    ip = IP(src=sip, dst=dip)
    cats = {}
    good_ip = bytes(ip / ICMP() / b"payload!")
    cats["ip_bad_csum"] = [e / IP(src=sip, dst=dip, chksum=0x1234) / ICMP()] * 20
    # (frames shorter than 14 bytes never make it through a packet socket: unit-tested)
    eip = Ether(dst=dmac, src="02:00:00:00:00:99", type=0x0800)
    cats["ip_truncated"] = [eip / Raw(good_ip[:n]) for n in (1, 5, 12, 19)]
    cats["ihl_lies"] = [e / IP(src=sip, dst=dip, ihl=15) / (b"x" * 4),
                        e / IP(src=sip, dst=dip, ihl=3) / ICMP(),
                        e / IP(src=sip, dst=dip, ihl=2) / (b"x" * 40)]
    cats["len_lies"] = [e / IP(src=sip, dst=dip, len=2000) / ICMP() / (b"y" * 10),
                        e / IP(src=sip, dst=dip, len=8) / ICMP()]
    cats["bad_version"] = [e / IP(src=sip, dst=dip, version=6) / ICMP()] * 5
    pl = bytes(ICMP(type=8, id=1, seq=1) / (b"A" * 64))
    ov = []
    for ident in range(100, 110):
        ov.append(e / IP(src=sip, dst=dip, id=ident, flags="MF", frag=0, proto=1) / pl[:48])
        ov.append(e / IP(src=sip, dst=dip, id=ident, flags="MF", frag=2, proto=1) / (b"B" * 48))
        ov.append(e / IP(src=sip, dst=dip, id=ident, frag=8, proto=1) / pl[64:])
    cats["frag_overlap"] = ov
    cats["frag_bad"] = [e / IP(src=sip, dst=dip, id=7, flags="MF", frag=8191, proto=17) / (b"z" * 64),
                        e / IP(src=sip, dst=dip, id=8, flags="MF", frag=0, proto=17) / (b"z" * 13)]
    # many incomplete datagrams: bounded memory, evictions, later timeouts
    cats["frag_flood"] = [e / IP(src=sip, dst=dip, id=1000 + i, flags="MF", proto=17) /
                          (b"q" * 1400) for i in range(300)]
    cats["udp_bad_csum"] = [e / ip / UDP(sport=1, dport=7, chksum=0xBEEF) / b"data"] * 10
    cats["udp_len_lies"] = [e / ip / UDP(sport=1, dport=7, len=500) / b"data",
                            e / ip / UDP(sport=1, dport=7, len=3) / b"data"]
    cats["icmp_bad_csum"] = [e / ip / ICMP(chksum=0x1111) / b"ping"] * 10
    cats["arp_garbage"] = [e / ARP(hwlen=16, plen=4, pdst=dip), e / ARP(op=99, pdst=dip),
                           Ether(dst=dmac, type=0x0806) / b"\x00\x01"]
    # requests from 1000 made-up off-link senders (ignored) and 100 on-link ones
    # (.100-.199, learnt; the table bound itself is unit-tested)
    def arpreq(i, psrc):
        mac = "02:00:00:01:%02x:%02x" % (i >> 8, i & 255)
        return Ether(dst="ff:ff:ff:ff:ff:ff", src=mac) / ARP(op=1, hwsrc=mac, psrc=psrc,
                                                             pdst=dip)
    cats["arp_flood"] = ([arpreq(i, "10.9.%d.%d" % (i >> 8, i & 255)) for i in range(1000)]
                         + [arpreq(i, "10.0.0.%d" % (100 + i)) for i in range(100)])
    tcp_cases = [e / ip / TCP(dport=80, flags="S", options=[("MSS", 1460), ("WScale", 99),
                                                             ("SAckOK", b""), (254, b"\xff" * 30)]),
                 e / ip / TCP(dport=80, flags="S", dataofs=15) / (b"x" * 8),
                 e / ip / TCP(dport=80, flags="S", dataofs=2),
                 e / ip / TCP(dport=80, flags="SA", chksum=0x4242),
                 e / ip / Raw(b"\x00\x50\x00\x50")]
    for p in tcp_cases:
        p[IP].proto = 6
    cats["tcp_bogus"] = tcp_cases
    rnd = random.Random(42)
    cats["syn_storm"] = [e / IP(src="10.0.0.%d" % rnd.randint(3, 250), dst=dip) /
                         TCP(sport=rnd.randint(1024, 65535), dport=80, flags="S",
                             seq=rnd.randint(0, 2**32 - 1)) for _ in range(500)]
    cats["rst_storm"] = [e / ip / TCP(sport=rnd.randint(1024, 65535), dport=80, flags="R",
                                      seq=rnd.randint(0, 2**32 - 1)) for _ in range(500)]
    random.seed(7)
    fz = []
    for i in range(nfuzz):
        kind = i % 3
        if kind == 0:
            fz.append(e / fuzz(IP(src=sip, dst=dip) / UDP()))
        elif kind == 1:
            fz.append(e / fuzz(IP(src=sip, dst=dip) / ICMP()))
        else:
            fz.append(e / IP(src=sip, dst=dip) / fuzz(TCP(dport=80)))
    cats["fuzz"] = fz
    return cats


def main():
    dmac, dip, sip = sys.argv[1:4]
    nfuzz = int(sys.argv[4]) if len(sys.argv) > 4 else 300
    conf.verb = 0
    s = conf.L2socket(iface="tap0")
    for name, fs in frames(dmac, dip, sip, nfuzz).items():
        for f in fs:
            s.send(f)
        print(name, len(fs))
    s.close()


if __name__ == "__main__":
    main()
