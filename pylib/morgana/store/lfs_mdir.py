# littlefs metadata pairs: fetch (pick the newest valid block of the pair and replay its
# log into entries), commit (append a commit to the log; compact into the pair's other
# block when the log is full; split into a new pair, linked by a hard tail, when even
# the compacted entries would fill more than half a block).
import struct

from morgana.store import lfs_disk as D
from morgana.store.lfs_disk import LfsError


class Entry:
    __slots__ = ("typ", "name", "stype", "sdata", "attrs")

    def __init__(self, typ=None, name=b"", stype=None, sdata=b"", attrs=None):
        self.typ = typ
        self.name = name
        self.stype = stype
        self.sdata = sdata
        self.attrs = attrs if attrs is not None else {}

    def copy(self):
        return Entry(self.typ, self.name, self.stype, self.sdata, dict(self.attrs))


class MState:
    """What a pair's log says once replayed: entries by id, tail (hard, (b0, b1)) or
    None, and the pair's gstate delta."""

    def __init__(self, entries=None, tail=None, gdelta=D.GZERO):
        self.entries = entries if entries is not None else []
        self.tail = tail
        self.gdelta = gdelta

    def copy(self):
        return MState([e.copy() for e in self.entries], self.tail, self.gdelta)

    def apply(self, tag, data):
        t3 = D.ttype3(tag)
        t1 = t3 >> 8
        i = D.tid(tag)
        es = self.entries
        if t1 == 0:
            if i == D.ID_NONE or D.tdeleted(tag):
                raise LfsError("name tag 0x%08x without a file id" % tag)
            while len(es) <= i:
                es.append(Entry())
            es[i].typ = t3 & 0xff
            es[i].name = data
        elif t3 == D.T_CREATE:
            if i > len(es):
                raise LfsError("create of id %d past the %d entries" % (i, len(es)))
            es.insert(i, Entry())
        elif t3 == D.T_DELETE:
            if i >= len(es):
                raise LfsError("delete of id %d past the %d entries" % (i, len(es)))
            es.pop(i)
        elif t1 == 2 or t1 == 3:
            if i >= len(es):
                raise LfsError("tag 0x%08x for id %d past the %d entries" % (tag, i, len(es)))
            e = es[i]
            if t1 == 2:
                if t3 > D.T_CTZSTRUCT:
                    raise LfsError("unsupported struct type 0x%03x" % t3)
                if D.tdeleted(tag):
                    e.stype = None
                    e.sdata = b""
                else:
                    e.stype = t3
                    e.sdata = data
            elif D.tdeleted(tag):
                e.attrs.pop(t3 & 0xff, None)
            else:
                e.attrs[t3 & 0xff] = data
        elif t1 == 6:
            if t3 > D.T_HARDTAIL:
                raise LfsError("unsupported tail type 0x%03x" % t3)
            if D.tdeleted(tag):
                self.tail = None
            elif len(data) != 8:
                raise LfsError("tail of %d bytes" % len(data))
            else:
                self.tail = (t3 == D.T_HARDTAIL, struct.unpack("<II", data))
        elif t3 == D.T_MOVESTATE:
            self.gdelta = D.GZERO if D.tdeleted(tag) else D.gunpack(data)
        else:
            raise LfsError("unsupported metadata tag 0x%08x (type 0x%03x)" % (tag, t3))

    def check(self, pair):
        for i, e in enumerate(self.entries):
            if e.typ is None:
                raise LfsError("pair %d,%d: entry %d has no name" % (pair[0], pair[1], i))

    def find(self, name):
        for i, e in enumerate(self.entries):
            if e.name == name and e.typ != D.T_SUPERBLOCK:
                return i
        return -1

    def insert_pos(self, name):
        """Id a new name takes (in littlefs's order, see sorts_after; the superblock
        entry stays first), or -1 when every name here sorts before it."""
        for i, e in enumerate(self.entries):
            if e.typ != D.T_SUPERBLOCK and sorts_after(e.name, name):
                return i
        return -1

    def attrs(self):
        """The whole state as the tags of one compacted commit."""
        out = []
        for i, e in enumerate(self.entries):
            out.extend(entry_attrs(i, e))
        if self.tail is not None:
            out.append((D.mktag(D.T_HARDTAIL if self.tail[0] else D.T_SOFTTAIL, D.ID_NONE, 8),
                        struct.pack("<II", self.tail[1][0], self.tail[1][1])))
        if self.gdelta != D.GZERO:
            out.append((D.mktag(D.T_MOVESTATE, D.ID_NONE, 12), D.gpack(self.gdelta)))
        return out


def sorts_after(a, b):
    """True if name a comes after name b in a directory. littlefs keeps each metadata
    pair (and a split directory's chain of pairs) in this order and its lookup stops at
    the first greater name: bytes compared over the shorter length, then the LONGER name
    first (lfs_dir_find_match), so "k15" sorts before "k1"."""
    n = len(a) if len(a) < len(b) else len(b)
    if a[:n] != b[:n]:
        return a[:n] > b[:n]
    return len(a) < len(b)


def entry_attrs(i, e):
    out = [(D.mktag(e.typ, i, len(e.name)), e.name)]
    if e.stype is not None:
        out.append((D.mktag(e.stype, i, len(e.sdata)), e.sdata))
    for k in sorted(e.attrs):
        out.append((D.mktag(D.T_USERATTR | k, i, len(e.attrs[k])), e.attrs[k]))
    return out


class Change:
    """Edits to a pair, recorded as log tags and applied to a copy of its state as they
    are made, so each tag's id is right for the entries at that point."""

    def __init__(self, state):
        self.state = state.copy()
        self.tags = []

    def _tag(self, tag, data):
        self.state.apply(tag, data)
        self.tags.append((tag, data))

    def insert(self, i, e):
        self._tag(D.mktag(D.T_CREATE, i, 0), b"")
        for tag, data in entry_attrs(i, e):
            self._tag(tag, data)

    def delete(self, i):
        self._tag(D.mktag(D.T_DELETE, i, 0), b"")

    def set_struct(self, i, stype, data):
        self._tag(D.mktag(stype, i, len(data)), data)

    def set_tail(self, tail):
        if tail is None:
            self._tag(D.mktag(D.T_SOFTTAIL, D.ID_NONE, D.SIZE_DELETED), b"")
        else:
            self._tag(D.mktag(D.T_HARDTAIL if tail[0] else D.T_SOFTTAIL, D.ID_NONE, 8),
                      struct.pack("<II", tail[1][0], tail[1][1]))


class MDir:
    """One metadata pair as fetched: pair (as referenced), cur (0/1: which block holds
    the log), rev, end (offset past the last commit), etag, state."""

    def __init__(self, pair):
        self.pair = pair
        self.cur = 0
        self.rev = 0
        self.end = 0
        self.etag = 0
        self.state = MState()

    @property
    def block(self):
        return self.pair[self.cur]

    def begin(self):
        return Change(self.state)


async def fetch(io, pair, gmove=None):
    for b in pair:
        if not 0 <= b < io.count:
            raise LfsError("metadata pair %d,%d outside the %d-block device"
                           % (pair[0], pair[1], io.count))
    logs = []
    for b in pair:
        logs.append(D.parse_log(await io.read_block(b)))
    a, b = logs
    if a is None and b is None:
        raise LfsError("metadata pair %d,%d holds no valid commit" % (pair[0], pair[1]))
    cur = 0 if b is None or (a is not None and not D.scmp_gt(b[0], a[0])) else 1
    rev, commits, end, etag = logs[cur]
    md = MDir(pair)
    md.cur = cur
    md.rev = rev
    md.end = end
    md.etag = etag
    st = md.state
    for c in commits:
        for tag, data in c:
            st.apply(tag, data)
    st.check(pair)
    if gmove is not None and D.pair_overlap(gmove, pair):
        if gmove[2] >= len(st.entries):
            raise LfsError("pending move of id %d past the entries of pair %d,%d"
                           % (gmove[2], pair[0], pair[1]))
        st.entries.pop(gmove[2])
    return md


async def _next_byte(io, block, off):
    if off >= io.block_size:
        return None
    return (await io.read(block, off, 1))[0]


async def _write_log(io, block, rev, attrs):
    """Write a fresh log (revision + one commit of attrs) into block; (end, etag)."""
    revb = struct.pack("<I", rev)
    end = D.commit_size(4, attrs, io.prog)
    nb = await _next_byte(io, block, end)
    data, end, etag = D.encode_commit(4, attrs, 0xffffffff, D.crc(0xffffffff, revb),
                                      io.prog, lambda off: nb)
    await io.barrier()
    await io.write(block, 0, revb + data)
    return end, etag


def _split_at(state):
    sizes = []
    for i, e in enumerate(state.entries):
        n = 0
        for tag, data in entry_attrs(i, e):
            n += 4 + len(data)
        sizes.append(n)
    half = sum(sizes) // 2
    acc = 0
    k = 1
    for i, n in enumerate(sizes):
        acc += n
        if acc > half:
            k = i
            break
    if k < 1:
        k = 1
    if k > len(sizes) - 1:
        k = len(sizes) - 1
    return k


async def _fit(fs, state):
    """Split state until its compaction takes at most half a block: the upper entries go
    to new pairs (written here) and state keeps a hard tail to them."""
    io = fs.io
    limit = io.block_size // 2
    while D.commit_size(4, state.attrs(), io.prog) > limit:
        if len(state.entries) < 2:
            if D.commit_size(4, state.attrs(), io.prog) <= io.block_size:
                break
            raise LfsError("one entry does not fit in a metadata block")
        k = _split_at(state)
        upper = MState(state.entries[k:], state.tail, D.GZERO)
        pair = await fs.alloc_pair()
        await write_new(fs, pair, upper)
        state.entries = state.entries[:k]
        state.tail = (True, pair)


async def write_new(fs, pair, state):
    """Write state as a new pair on two freshly allocated blocks; returns its MDir."""
    io = fs.io
    await _fit(fs, state)
    stale = struct.unpack("<I", await io.read(pair[1], 0, 4))[0]
    rev = (stale + 1) & 0xffffffff
    end, etag = await _write_log(io, pair[0], rev, state.attrs())
    md = MDir(pair)
    md.cur = 0
    md.rev = rev
    md.end = end
    md.etag = etag
    md.state = state
    fs.cache_put(md)
    return md


async def commit(fs, md, ch, extra=D.GZERO):
    """Commit the Change ch to md (append, else compact/split), carrying the pending
    gstate delta (and extra, the deltas of pairs being dropped)."""
    io = fs.io
    st = ch.state
    tags = list(ch.tags)
    d = D.gxor(D.gxor(fs.gstate, fs.gdisk), extra)
    if d != D.GZERO:
        st.gdelta = D.gxor(st.gdelta, d)
        tags.append((D.mktag(D.T_MOVESTATE, D.ID_NONE, 12), D.gpack(st.gdelta)))
    end = D.commit_size(md.end, tags, io.prog)
    if md.end > 0 and end <= io.block_size:
        nb = await _next_byte(io, md.block, end)
        data, end, etag = D.encode_commit(md.end, tags, md.etag, 0xffffffff, io.prog,
                                          lambda off: nb)
        await io.barrier()
        await io.write(md.block, md.end, data)
        md.end = end
        md.etag = etag
        md.state = st
    else:
        await _fit(fs, st)
        other = 1 - md.cur
        rev = (md.rev + 1) & 0xffffffff
        end, etag = await _write_log(io, md.pair[other], rev, st.attrs())
        md.cur = other
        md.rev = rev
        md.end = end
        md.etag = etag
        md.state = st
    fs.gdisk = fs.gstate
