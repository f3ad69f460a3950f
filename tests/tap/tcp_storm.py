# Hostile TCP traffic crafted with scapy, sent on a TAP device from the Linux side:
#   tcp_storm.py IFACE DST_MAC DST_IP DPORT MODE [SPORT N]
# MODE: syn      N SYNs from spoofed on-link sources (a SYN flood)
#       rst      N RSTs into the connection SPORT->DPORT: half blind (random sequence
#                numbers), half inside the receive window but not exact (RFC 5961 3.2:
#                each must get a challenge ACK, none may reset)
#       synflow  N SYNs into the connection SPORT->DPORT, same mix
#       junk     malformed segments: bad checksums, truncated headers, bad data offsets,
#                bogus options, overlapping and out-of-window data
# Prints "SENT <count>".
import random
import sys

from scapy.all import Ether, IP, TCP, Raw, sendp, sniff, conf

conf.verb = 0


def learn_rcv_nxt(iface, sport, dport):
    # the ACK field of a segment our stack sends on the connection is its RCV.NXT
    pkts = sniff(iface=iface, count=1, timeout=10, lfilter=lambda p: TCP in p and
                 p[TCP].sport == dport and p[TCP].dport == sport and p[TCP].flags & 0x10)
    if not pkts:
        raise SystemExit("no segment seen on %s:%d" % (iface, sport))
    return pkts[0][TCP].ack


def frames(src_ip, dst_mac, dst_ip, dport, mode, sport, n, rcv_nxt=0):
    rnd = random.Random(1234)
    eth = Ether(dst=dst_mac)
    if mode == "syn":
        for i in range(n):
            src = "10.0.0.%d" % (100 + i % 100)
            yield eth / IP(src=src, dst=dst_ip) / TCP(
                sport=1024 + i, dport=dport, flags="S", seq=rnd.getrandbits(32),
                options=[("MSS", 1460), ("WScale", 7)])
    elif mode in ("rst", "synflow"):
        for i in range(n):
            if i % 2:
                seq = (rcv_nxt + 1 + rnd.randrange(0, 60000)) & 0xFFFFFFFF
            else:
                seq = rnd.getrandbits(32)
            yield eth / IP(src=src_ip, dst=dst_ip) / TCP(
                sport=sport, dport=dport, flags="R" if mode == "rst" else "S",
                seq=seq, ack=rnd.getrandbits(32))
    elif mode == "junk":
        for i in range(n):
            base = IP(src=src_ip, dst=dst_ip)
            k = i % 8
            if k == 0:  # bad checksum
                yield eth / base / TCP(sport=40000 + i, dport=dport, flags="S", chksum=0xDEAD)
            elif k == 1:  # truncated TCP header (10 bytes)
                yield eth / IP(src=src_ip, dst=dst_ip, proto=6) / Raw(bytes(10))
            elif k == 2:  # data offset past the end
                yield eth / base / TCP(sport=40000 + i, dport=dport, flags="S", dataofs=15)
            elif k == 3:  # data offset below 5
                yield eth / base / TCP(sport=40000 + i, dport=dport, flags="S", dataofs=2)
            elif k == 4:  # option with length 0 (would loop forever in a naive parser)
                yield eth / base / TCP(sport=40000 + i, dport=dport, flags="S",
                                       options=[(2, b"")]) / Raw(b"")
            elif k == 5:  # option length running past the header
                t = TCP(sport=40000 + i, dport=dport, flags="S", dataofs=6)
                yield eth / base / Raw(bytes(t)[:20] + b"\x02\x09\x05\xb4")
            elif k == 6:  # overlapping data into the live connection, out of window
                yield eth / base / TCP(sport=sport, dport=dport, flags="PA",
                                       seq=rnd.getrandbits(32), ack=rnd.getrandbits(32)) / \
                    Raw(b"X" * rnd.randrange(1, 1400))
            else:  # every flag at once, random options bytes
                yield eth / base / TCP(sport=40000 + i, dport=dport, flags="FSRPAUEC",
                                       options=[(rnd.randrange(9, 250),
                                                 bytes(rnd.randrange(0, 6)))])


def main(argv):
    iface, dst_mac, dst_ip, dport, mode = argv[:5]
    sport = int(argv[5]) if len(argv) > 5 else 0
    n = int(argv[6]) if len(argv) > 6 else 1000
    src_ip = argv[7] if len(argv) > 7 else "10.0.0.1"
    rcv_nxt = learn_rcv_nxt(iface, sport, int(dport)) if mode in ("rst", "synflow") else 0
    pkts = list(frames(src_ip, dst_mac, dst_ip, int(dport), mode, sport, n, rcv_nxt))
    sendp(pkts, iface=iface)
    print("SENT %d" % len(pkts))


if __name__ == "__main__":
    main(sys.argv[1:])
