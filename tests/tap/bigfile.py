# A deterministic test file whose every 4-byte word is unique within a 64 KiB block and
# every block starts with its index: reordered, duplicated or lost data changes the
# sha256. Portable (CPython and MicroPython) so both sides can build the same bytes.
import struct

BLOCK = 65536


def _block():
    b = bytearray(BLOCK)
    for i in range(BLOCK // 4):
        struct.pack_into(">I", b, i * 4, (i * 2654435761) & 0xFFFFFFFF)
    return bytes(b)


def make(size):
    blk = _block()
    parts = []
    n = 0
    j = 0
    while n < size:
        take = min(BLOCK, size - n)
        parts.append((struct.pack(">I", j) + blk[4:take])[:take])
        n += take
        j += 1
    return b"".join(parts)
