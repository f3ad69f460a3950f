# Address helpers: dotted IPv4 strings <-> ints, MAC bytes <-> strings.
# The app API speaks dotted strings; everything inside the stack uses ints.

BROADCAST_MAC = b"\xff\xff\xff\xff\xff\xff"
ZERO_MAC = b"\x00\x00\x00\x00\x00\x00"
BROADCAST_IP = 0xFFFFFFFF


def ip_to_int(s):
    if isinstance(s, int):
        if 0 <= s <= 0xFFFFFFFF:
            return s
        raise ValueError("IPv4 address out of range: %r" % (s,))
    if not isinstance(s, str):
        raise TypeError("IPv4 address must be a dotted string, got %r" % (s,))
    parts = s.split(".")
    if len(parts) != 4:
        raise ValueError("bad IPv4 address %r" % s)
    n = 0
    for p in parts:
        if not p or len(p) > 3 or not p.isdigit():
            raise ValueError("bad IPv4 address %r" % s)
        v = int(p)
        if v > 255:
            raise ValueError("bad IPv4 address %r" % s)
        n = (n << 8) | v
    return n


def int_to_ip(n):
    return "%d.%d.%d.%d" % ((n >> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255)


def ip_to_bytes(n):
    return n.to_bytes(4, "big")


def mac_to_str(b):
    return ":".join("%02x" % x for x in bytes(b))


def mac_from_str(s):
    parts = s.split(":")
    if len(parts) != 6:
        raise ValueError("bad MAC address %r" % s)
    out = bytearray(6)
    for i, p in enumerate(parts):
        if len(p) != 2:
            raise ValueError("bad MAC address %r" % s)
        try:
            out[i] = int(p, 16)
        except ValueError:
            raise ValueError("bad MAC address %r" % s)
    return bytes(out)


def netmask_to_prefix(mask):
    # a netmask must be contiguous ones then zeros
    n = 0
    while n < 32 and mask & (0x80000000 >> n):
        n += 1
    if mask != ((0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF):
        raise ValueError("non-contiguous netmask %s" % int_to_ip(mask))
    return n
