# littlefs v2 on-disk encoding (SPEC.md of littlefs 2.1): constants, the CRC, tags,
# metadata-log parsing and commit encoding, CTZ skip-list arithmetic, the superblock.
# Pure functions over bytes: no I/O here, so it is tested on its own.
import struct

try:
    import binascii
    _crc32 = binascii.crc32
except (ImportError, AttributeError):   # pragma: no cover (ports without binascii.crc32)
    _crc32 = None


class LfsError(Exception):
    """The image is not a littlefs v2 filesystem we can use: corrupt, foreign or using a
    feature this implementation does not have. The message names what is wrong."""


# tag types (type3: 11 bits = type1 (3) + chunk (8))
T_NAME = 0x000
T_REG = 0x001
T_DIR = 0x002
T_SUPERBLOCK = 0x0ff
T_STRUCT = 0x200
T_DIRSTRUCT = 0x200
T_INLINESTRUCT = 0x201
T_CTZSTRUCT = 0x202
T_USERATTR = 0x300
T_SPLICE = 0x400
T_CREATE = 0x401
T_DELETE = 0x4ff
T_CRC = 0x500
T_FCRC = 0x5ff
T_TAIL = 0x600
T_SOFTTAIL = 0x600
T_HARDTAIL = 0x601
T_GSTATE = 0x700
T_MOVESTATE = 0x7ff

ID_NONE = 0x3ff
SIZE_DELETED = 0x3ff
BLOCK_NULL = 0xffffffff
MAGIC = b"littlefs"
VERSION = 0x00020001            # what we write (2.1); we read 2.0 and 2.1
NAME_MAX = 255
FILE_MAX = 0x7fffffff
ATTR_MAX = 1022


# -- CRC-32 as littlefs uses it: reflected 0x04c11db7, caller's seed, no final xor ------
_TABLE = None


def _table():
    global _TABLE
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0xedb88320 if c & 1 else 0)
        t.append(c)
    _TABLE = t
    return t


def crc(seed, data):
    """lfs_crc(seed, data): CRC-32 without the final inversion."""
    if _crc32 is not None:
        return _crc32(data, seed ^ 0xffffffff) ^ 0xffffffff
    t = _TABLE or _table()
    c = seed
    for b in data:
        c = (c >> 8) ^ t[(c ^ b) & 0xff]
    return c


# -- tags --------------------------------------------------------------------------------
def mktag(type3, tid, size):
    return (type3 << 20) | (tid << 10) | size


def ttype3(tag):
    return (tag >> 20) & 0x7ff


def ttype1(tag):
    return (tag >> 28) & 0x7


def tchunk(tag):
    return (tag >> 20) & 0xff


def tid(tag):
    return (tag >> 10) & 0x3ff


def tsize(tag):
    return tag & 0x3ff


def tdeleted(tag):
    return tag & 0x3ff == SIZE_DELETED


def dsize(tag):
    """Bytes the tag and its data take in the log."""
    s = tag & 0x3ff
    return 4 if s == SIZE_DELETED else 4 + s


def scmp_gt(a, b):
    """Revision a is newer than b (sequence comparison, wraps at 2**32)."""
    d = (a - b) & 0xffffffff
    return d != 0 and d < 0x80000000


# -- gstate (xor of every pair's MOVESTATE delta): (tag, pair0, pair1) --------------------
GZERO = (0, 0, 0)


def gxor(a, b):
    return (a[0] ^ b[0], a[1] ^ b[1], a[2] ^ b[2])


def gpack(g):
    return struct.pack("<III", g[0], g[1], g[2])


def gunpack(b):
    if len(b) != 12:
        raise LfsError("move state of %d bytes (not 12)" % len(b))
    return struct.unpack("<III", b)


def g_orphans(g):
    return g[0] & 0x1ff


def g_with_orphans(g, delta):
    n = (g[0] & 0x1ff) + delta
    if n < 0 or n > 0x1ff:
        raise LfsError("orphan count out of range")
    t = (g[0] & ~0x800001ff & 0xffffffff) | n | (0x80000000 if n else 0)
    return (t, g[1], g[2])


def g_move(g):
    """(pair0, pair1, id) of a pending move, or None."""
    if ttype1(g[0]) == 0:
        return None
    return (g[1], g[2], tid(g[0]))


def g_with_move(g, pair, mid):
    t = g[0] & ~mktag(0x7ff, 0x3ff, 0) & 0xffffffff
    if pair is None:
        return (t, 0, 0)
    return (t | mktag(T_DELETE, mid, 0), pair[0], pair[1])


def pair_overlap(a, b):
    return a[0] == b[0] or a[0] == b[1] or a[1] == b[0] or a[1] == b[1]


# -- metadata log parsing ------------------------------------------------------------------
def parse_log(buf):
    """Scan one metadata block (bytes of the whole block). Returns None when it holds no
    valid commit, else (rev, commits, end, etag): commits is a list of lists of
    (tag, data) for every valid commit in order (CRC/FCRC tags left out), end the offset
    just past the last valid commit, etag the running tag to append the next commit
    with. Stops at the first invalid tag or CRC mismatch, as a power cut leaves it."""
    bs = len(buf)
    if bs < 16:
        return None
    rev = struct.unpack_from("<I", buf, 0)[0]
    c = crc(0xffffffff, buf[0:4])
    off = 4
    ptag = 0xffffffff
    pend = []
    commits = []
    end = 0
    etag = 0
    mv = memoryview(buf)
    while off + 4 <= bs:
        raw = mv[off:off + 4]
        c = crc(c, raw)
        tag = (struct.unpack(">I", raw)[0] ^ ptag) & 0xffffffff
        if tag & 0x80000000:
            break
        ds = dsize(tag)
        if off + ds > bs:
            break
        ptag = tag
        t3 = ttype3(tag)
        if t3 & 0x780 == T_CRC and t3 != T_FCRC:
            if tsize(tag) < 4 or off + 8 > bs:
                break
            if c != struct.unpack_from("<I", buf, off + 4)[0]:
                break
            ptag ^= (tchunk(tag) & 1) << 31
            commits.append(pend)
            pend = []
            off += ds
            end = off
            etag = ptag
            c = 0xffffffff
            continue
        data = bytes(mv[off + 4:off + ds])
        c = crc(c, data)
        if t3 != T_FCRC:
            pend.append((tag, data))
        off += ds
    if not commits:
        return None
    return rev, commits, end, etag


# -- commit encoding -----------------------------------------------------------------------
def encode_attrs(attrs, ptag):
    """Bytes of (tag, data) entries xor-chained from ptag; returns (bytes, ptag)."""
    out = bytearray()
    for tag, data in attrs:
        out += struct.pack(">I", ((tag & 0x7fffffff) ^ ptag) & 0xffffffff)
        ptag = tag & 0x7fffffff
        if data:
            out += data
    return out, ptag


def commit_size(start, attrs, prog):
    """Offset the commit of attrs starting at start ends at (aligned to prog)."""
    n = start
    for tag, data in attrs:
        n += 4 + len(data)
    return align_up(n + 8, prog)


def align_up(n, a):
    return (n + a - 1) // a * a


def encode_commit(start, attrs, ptag, seed, prog, next_byte):
    """One commit placed at offset start (a multiple of prog): attrs, then CRC tag(s)
    padding it to the next prog boundary. seed: the running CRC (crc of the revision
    for a block's first commit, else 0xffffffff). next_byte(off) gives the byte now at
    the block offset just past the commit (None past the end): the CRC tag's valid-state
    bit is chosen so those stale bytes read as an invalid tag. Returns (bytes, end,
    ptag for the next commit)."""
    body, ptag = encode_attrs(attrs, ptag)
    c = crc(seed, body)
    out = bytearray(body)
    pos = start + len(out)
    end = align_up(pos + 8, prog)
    while True:
        gap = end - pos - 4                 # bytes after this CRC tag up to end
        last = gap <= 0x3fe
        size = gap if last else min(0x3fe, gap - 8)
        bit = 0
        if last:
            nb = next_byte(end)
            if nb is not None:
                bit = 1 - (nb >> 7)
        tag = mktag(T_CRC | bit, ID_NONE, size)
        raw = struct.pack(">I", (tag ^ ptag) & 0xffffffff)
        c = crc(c, raw)
        out += raw
        out += struct.pack("<I", c)
        out += b"\xff" * (size - 4)
        ptag = tag ^ (bit << 31)
        pos += 4 + size
        c = 0xffffffff
        if last:
            break
    return out, end, ptag


# -- CTZ skip lists ------------------------------------------------------------------------
def ctz(n):
    """Trailing zero bits of n > 0."""
    k = 0
    while not n & 1:
        n >>= 1
        k += 1
    return k


def popc(n):
    k = 0
    while n:
        n &= n - 1
        k += 1
    return k


def ctz_npointers(i):
    return 0 if i == 0 else ctz(i) + 1


def ctz_start(i, bs):
    """File offset of the first data byte of block index i."""
    if i == 0:
        return 0
    return i * bs - 4 * (2 * (i - 1) - popc(i - 1))


def ctz_index(pos, bs):
    """(block index, offset inside that block) of file offset pos; the offset counts
    from the block's first byte, so it includes the block's pointers."""
    i = pos // bs
    while i > 0 and ctz_start(i, bs) > pos:
        i -= 1
    while ctz_start(i + 1, bs) <= pos:
        i += 1
    return i, pos - ctz_start(i, bs) + 4 * ctz_npointers(i)


def ctz_blocks_for(size, bs):
    """Number of blocks a CTZ file of size bytes takes (0 for an empty file)."""
    if size == 0:
        return 0
    return ctz_index(size - 1, bs)[0] + 1


# -- superblock ----------------------------------------------------------------------------
def pack_superblock(block_size, block_count):
    return struct.pack("<IIIIII", VERSION, block_size, block_count, NAME_MAX, FILE_MAX,
                       ATTR_MAX)


def unpack_superblock(data):
    """(version, block_size, block_count, name_max, file_max, attr_max); the reference
    implementation may write fewer than 24 bytes (zeros stand for defaults)."""
    if len(data) < 12:
        raise LfsError("superblock entry of %d bytes (at least 12)" % len(data))
    d = bytes(data) + bytes(24 - len(data)) if len(data) < 24 else bytes(data[:24])
    return struct.unpack("<IIIIII", d)
