# Ethernet II framing: pure functions over bytes/memoryview.
import struct
from morgana.net import Drop

HEADER_LEN = 14
ETH_IPV4 = 0x0800
ETH_ARP = 0x0806


def parse(frame):
    """-> (dst_mac bytes, src_mac bytes, ethertype, payload memoryview)."""
    if len(frame) < HEADER_LEN:
        raise Drop("eth_truncated")
    mv = memoryview(frame)
    return bytes(mv[0:6]), bytes(mv[6:12]), (mv[12] << 8) | mv[13], mv[14:]


def header(dst, src, ethertype):
    return dst + src + struct.pack(">H", ethertype)


def is_multicast(mac):
    return bool(mac[0] & 1)
