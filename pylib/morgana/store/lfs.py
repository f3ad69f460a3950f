# littlefs v2 (on-disk version 2.1, SPEC.md) over a block device of docs/design.md,
# written here from the specification, async so device waits yield to the scheduler.
#   await lfs.format(dev, block_size=4096)
#   fs = await lfs.mount(dev)          # LfsError names what is wrong with a bad image
#   f = await fs.open("a/b.txt", "w"); await f.write(b"..."); await f.close()  # durable
#   await fs.stat(p) -> Stat (.name .type "file"|"dir" .size); await fs.listdir(p)
#   await fs.mkdir(p); await fs.remove(p); await fs.rename(a, b); await fs.sync()
# Every namespace operation is one atomic commit (a rename between metadata pairs uses
# the move state, as littlefs does) and is durable when it returns; file data is
# durable at close()/sync(). A new file appears in its directory at its first sync.
import struct

from morgana import sched
from morgana.store import lfs_disk as D
from morgana.store import lfs_mdir as M
from morgana.store.lfs_alloc import Alloc
from morgana.store.lfs_disk import LfsError
from morgana.store.lfs_file import File
from morgana.store.lfs_io import Blocks

ENOENT = 2
EEXIST = 17
ENOTDIR = 20
EISDIR = 21
EINVAL = 22
EROFS = 30
ENAMETOOLONG = 36
ENOTEMPTY = 39
ROOT = (0, 1)
CACHE_MAX = 256


class Lock:
    def __init__(self):
        self.held = False
        self.waiters = []

    async def acquire(self):
        while self.held:
            p = sched.Promise()
            self.waiters.append(p)
            await p
        self.held = True

    def release(self):
        self.held = False
        while self.waiters:
            p = self.waiters.pop(0)
            if not p.done():
                p.wakeup(None)
                break


class Stat:
    def __init__(self, name, type, size):
        self.name = name
        self.type = type
        self.size = size

    def __repr__(self):
        return "Stat(%r, %r, %d)" % (self.name, self.type, self.size)


def _split(path):
    if isinstance(path, bytes):
        path = path.decode()
    out = []
    for part in path.split("/"):
        if part == "" or part == ".":
            continue
        if part == "..":
            if out:
                out.pop()
            continue
        b = part.encode()
        if len(b) > D.NAME_MAX:
            raise OSError(ENAMETOOLONG, "name longer than %d bytes: %r" % (D.NAME_MAX, part))
        out.append(b)
    return out


def _mode(mode):
    m = mode.replace("b", "")
    plus = "+" in m
    m = m.replace("+", "")
    if m not in ("r", "w", "a", "x"):
        raise ValueError("bad mode %r" % (mode,))
    readable = m == "r" or plus
    writable = m != "r" or plus
    return m, (readable, writable, m == "a")


class FS:
    def __init__(self, io, block_count, read_only):
        self.io = io
        io.count = block_count
        self.read_only = read_only
        self.inline_max = min(io.block_size // 8, D.ATTR_MAX)
        self.gstate = D.GZERO
        self.gdisk = D.GZERO
        self.cache = {}
        self.handles = []
        self.pinned = set()
        self.lock = Lock()
        self.alloc_ = Alloc(self)
        self.root = ROOT

    # -- pairs --------------------------------------------------------------------------
    def cache_put(self, md):
        self.cache[md.pair] = md

    def trim(self):
        """Forget fetched pairs when many are cached (only between operations, so one
        operation always sees one object per pair)."""
        if len(self.cache) > CACHE_MAX:
            self.cache = {}

    async def get(self, pair):
        pair = (pair[0], pair[1])
        md = self.cache.get(pair)
        if md is None:
            gm = D.g_move(self.gstate) if self.read_only else None
            md = await M.fetch(self.io, pair, gm)
            self.cache_put(md)
        return md

    async def walk_pairs(self):
        """Every pair on the threaded tail list from the superblock pair."""
        out = []
        seen = set()
        pair = ROOT
        while pair is not None:
            if pair in seen or len(out) > self.io.count:
                raise LfsError("metadata tail list loops at pair %d,%d" % pair)
            seen.add(pair)
            md = await self.get(pair)
            out.append(md)
            t = md.state.tail
            pair = None if t is None or D.BLOCK_NULL in t[1] else (t[1][0], t[1][1])
        return out

    async def chain(self, first):
        """The pairs of one directory: first, then its hard tails."""
        out = []
        pair = first
        while True:
            md = await self.get(pair)
            out.append(md)
            t = md.state.tail
            if t is None or not t[0]:
                return out
            pair = (t[1][0], t[1][1])
            if len(out) > self.io.count:
                raise LfsError("directory chain loops at pair %d,%d" % pair)

    async def alloc(self):
        return await self.alloc_.alloc()

    async def alloc_pair(self):
        return (await self.alloc(), await self.alloc())

    def ctz_of(self, e):
        if len(e.sdata) != 8:
            raise LfsError("CTZ struct of %d bytes" % len(e.sdata))
        return struct.unpack("<II", e.sdata)

    def _dirpair(self, e, what):
        if e.stype != D.T_DIRSTRUCT or len(e.sdata) != 8:
            raise LfsError("directory %r has no directory struct" % (what,))
        p = struct.unpack("<II", e.sdata)
        return (p[0], p[1])

    # -- lookup -------------------------------------------------------------------------
    async def _locate(self, dpair, name):
        """(md, id, found, chain): where name is in the directory starting at dpair, or
        where it would be inserted."""
        ch = await self.chain(dpair)
        for md in ch:
            i = md.state.find(name)
            if i >= 0:
                return md, i, True, ch
            j = md.state.insert_pos(name)
            if j >= 0:
                return md, j, False, ch
        md = ch[-1]
        return md, len(md.state.entries), False, ch

    async def _dir_of(self, parts, path):
        """First pair of the directory named by parts."""
        pair = self.root
        for p in parts:
            md, i, found, ch = await self._locate(pair, p)
            if not found:
                raise OSError(ENOENT, "no such directory: %r" % (path,))
            e = md.state.entries[i]
            if e.typ != D.T_DIR:
                raise OSError(ENOTDIR, "not a directory: %r" % (path,))
            pair = self._dirpair(e, path)
        return pair

    async def _lookup_existing(self, path, verb):
        """_lookup of an entry that must exist and not be the root (what verb acts on)."""
        r = await self._lookup(path)
        if r[1] is None:
            raise OSError(EINVAL, "cannot %s the root" % verb)
        if not r[4]:
            raise OSError(ENOENT, "no such file or directory: %r" % (path,))
        return r

    async def _lookup(self, path):
        """(parent pair, name, md, id, found, chain); name None for the root."""
        parts = _split(path)
        if not parts:
            return self.root, None, None, -1, True, None
        dpair = await self._dir_of(parts[:-1], path)
        md, i, found, ch = await self._locate(dpair, parts[-1])
        return dpair, parts[-1], md, i, found, ch

    def _check_rw(self):
        if self.read_only:
            raise OSError(EROFS, "filesystem mounted read-only")

    # -- API ----------------------------------------------------------------------------
    async def stat(self, path):
        await self.lock.acquire()
        self.trim()
        try:
            dpair, name, md, i, found, ch = await self._lookup(path)
            if name is None:
                return Stat("/", "dir", 0)
            if not found:
                raise OSError(ENOENT, "no such file or directory: %r" % (path,))
            e = md.state.entries[i]
            if e.typ == D.T_DIR:
                return Stat(name.decode(), "dir", 0)
            size = 0
            if e.stype == D.T_INLINESTRUCT:
                size = len(e.sdata)
            elif e.stype == D.T_CTZSTRUCT:
                size = self.ctz_of(e)[1]
            for h in self.handles:      # an open file's unsynced size
                if h.dpair == dpair and h.name == name and h.dirty:
                    size = h.fsize()
            return Stat(name.decode(), "file", size)
        finally:
            self.lock.release()

    async def listdir(self, path="/"):
        return [s.name for s in await self.scandir(path)]

    async def scandir(self, path="/"):
        """Stat of every entry of a directory, sorted by name."""
        await self.lock.acquire()
        self.trim()
        try:
            parts = _split(path)
            pair = await self._dir_of(parts, path)
            out = []
            for md in await self.chain(pair):
                for e in md.state.entries:
                    if e.typ == D.T_SUPERBLOCK:
                        continue
                    if e.typ == D.T_DIR:
                        out.append(Stat(e.name.decode(), "dir", 0))
                    elif e.typ == D.T_REG:
                        size = len(e.sdata) if e.stype == D.T_INLINESTRUCT else (
                            self.ctz_of(e)[1] if e.stype == D.T_CTZSTRUCT else 0)
                        out.append(Stat(e.name.decode(), "file", size))
            out.sort(key=lambda s: s.name.encode())
            return out
        finally:
            self.lock.release()

    async def open(self, path, mode="r"):
        m, flags = _mode(mode)
        if flags[1]:
            self._check_rw()
        await self.lock.acquire()
        self.trim()
        try:
            dpair, name, md, i, found, ch = await self._lookup(path)
            if name is None:
                raise OSError(EISDIR, "is a directory: %r" % (path,))
            e = md.state.entries[i] if found else None
            if e is not None and e.typ != D.T_REG:
                raise OSError(EISDIR, "is a directory: %r" % (path,))
            if e is None and m == "r":
                raise OSError(ENOENT, "no such file: %r" % (path,))
            if e is not None and m == "x":
                raise OSError(EEXIST, "file exists: %r" % (path,))
            f = File(self, dpair, name, flags, e, m == "w")
            self.handles.append(f)
            return f
        finally:
            self.lock.release()

    async def _commit_file(self, dpair, name, stype, sdata):
        md, i, found, ch = await self._locate(dpair, name)
        c = md.begin()
        if found:
            c.set_struct(i, stype, sdata)
        else:
            c.insert(i, M.Entry(D.T_REG, name, stype, sdata))
        await M.commit(self, md, c)
        self.pinned.clear()

    async def mkdir(self, path):
        self._check_rw()
        await self.lock.acquire()
        self.trim()
        try:
            dpair, name, md, i, found, ch = await self._lookup(path)
            if found:
                raise OSError(EEXIST, "exists: %r" % (path,))
            pred = ch[-1]
            pair = await self.alloc_pair()
            new = await M.write_new(self, pair, M.MState([], pred.state.tail))
            soft = (False, pair)
            if pred is not md:
                self.gstate = D.g_with_orphans(self.gstate, 1)
                c = pred.begin()
                c.set_tail(soft)
                await M.commit(self, pred, c)
                self.gstate = D.g_with_orphans(self.gstate, -1)
            c = md.begin()
            c.insert(i, M.Entry(D.T_DIR, name, D.T_DIRSTRUCT, struct.pack("<II", pair[0], pair[1])))
            if pred is md:
                c.set_tail(soft)
            await M.commit(self, md, c)
            await self.io.flush()
            self.pinned.clear()
        finally:
            self.lock.release()

    async def _pred(self, pair):
        for md in await self.walk_pairs():
            t = md.state.tail
            if t is not None and (t[1][0], t[1][1]) == pair:
                return md
        raise LfsError("pair %d,%d is not on the tail list" % pair)

    async def _drop_dir(self, first):
        """Unlink a removed directory's pairs from the tail list (its orphan count was
        raised by the commit that removed its entry)."""
        ch = await self.chain(first)
        extra = D.GZERO
        for md in ch:
            extra = D.gxor(extra, md.state.gdelta)
        pred = await self._pred(first)
        self.gstate = D.g_with_orphans(self.gstate, -1)
        c = pred.begin()
        t = ch[-1].state.tail
        c.set_tail(None if t is None else (False, t[1]))
        await M.commit(self, pred, c, extra)
        for md in ch:
            self.cache.pop(md.pair, None)

    async def _drop_if_empty(self, md, ch):
        """A non-first pair of a directory left without entries leaves the chain."""
        k = 0
        for j in range(len(ch)):
            if ch[j].pair == md.pair:
                k = j
                md = ch[j]
        if k == 0 or md.state.entries:
            return
        pred = ch[k - 1]
        c = pred.begin()
        c.set_tail(md.state.tail)
        await M.commit(self, pred, c, md.state.gdelta)
        self.cache.pop(md.pair, None)

    async def _empty_dir(self, e, path):
        first = self._dirpair(e, path)
        for m in await self.chain(first):
            if m.state.entries:
                raise OSError(ENOTEMPTY, "directory not empty: %r" % (path,))
        return first

    async def remove(self, path):
        self._check_rw()
        await self.lock.acquire()
        self.trim()
        try:
            dpair, name, md, i, found, ch = await self._lookup_existing(path, "remove")
            e = md.state.entries[i]
            first = None
            if e.typ == D.T_DIR:
                first = await self._empty_dir(e, path)
                self.gstate = D.g_with_orphans(self.gstate, 1)
            c = md.begin()
            c.delete(i)
            await M.commit(self, md, c)
            if first is not None:
                await self._drop_dir(first)
            await self._drop_if_empty(md, await self.chain(dpair))
            for h in self.handles:
                if h.dpair == dpair and h.name == name:
                    h.removed = True
            await self.io.flush()
            self.pinned.clear()
        finally:
            self.lock.release()

    async def rename(self, old, new):
        self._check_rw()
        await self.lock.acquire()
        self.trim()
        try:
            sp, sname, smd, si, sfound, sch = await self._lookup_existing(old, "rename")
            op = _split(old)
            np = _split(new)
            if op == np:
                return
            e = smd.state.entries[si].copy()
            if e.typ == D.T_DIR and np[:len(op)] == op:
                raise OSError(EINVAL, "cannot move %r into itself" % (old,))
            dp, dname, dmd, di, dfound, dch = await self._lookup(new)
            if dname is None:
                raise OSError(EEXIST, "cannot replace the root")
            replaced = None
            if dfound:
                de = dmd.state.entries[di]
                if de.typ == D.T_DIR and e.typ != D.T_DIR:
                    raise OSError(EISDIR, "is a directory: %r" % (new,))
                if de.typ != D.T_DIR and e.typ == D.T_DIR:
                    raise OSError(ENOTDIR, "not a directory: %r" % (new,))
                if de.typ == D.T_DIR:
                    replaced = await self._empty_dir(de, new)
                    self.gstate = D.g_with_orphans(self.gstate, 1)
            e.name = dname
            c = dmd.begin()
            if dfound:
                c.delete(di)
                if dmd.pair == smd.pair and di < si:
                    si -= 1
            same = dmd.pair == smd.pair
            pos = c.state.insert_pos(dname)
            if pos < 0:
                pos = len(c.state.entries)
            c.insert(pos, e)
            if same:
                if pos <= si:
                    si += 1
                c.delete(si)
                await M.commit(self, dmd, c)
            else:
                self.gstate = D.g_with_move(self.gstate, smd.pair, si)
                await M.commit(self, dmd, c)
                self.gstate = D.g_with_move(self.gstate, None, 0)
                c = smd.begin()
                c.delete(si)
                await M.commit(self, smd, c)
            if replaced is not None:
                await self._drop_dir(replaced)
            await self._drop_if_empty(smd, await self.chain(sp))
            for h in self.handles:
                if h.dpair == dp and h.name == dname:
                    h.removed = True
            for h in self.handles:
                if h.dpair == sp and h.name == sname:
                    h.dpair = dp
                    h.name = dname
            await self.io.flush()
            self.pinned.clear()
        finally:
            self.lock.release()

    async def sync(self):
        """Sync every open file, then flush the device."""
        for h in list(self.handles):
            if h.writable:
                await h.sync()
        await self.io.flush()

    async def unmount(self):
        await self.sync()

    async def statvfs(self):
        """(block_size, block_count, blocks in use)."""
        await self.lock.acquire()
        self.trim()
        try:
            m = await self.alloc_.used()
            return self.io.block_size, self.io.count, sum(m)
        finally:
            self.lock.release()

    # -- mount-time repairs ----------------------------------------------------------------
    async def _fixups(self):
        mv = D.g_move(self.gstate)
        if mv is not None:                       # finish a rename cut by a power loss
            pair = (mv[0], mv[1])
            md = None
            for m in await self.walk_pairs():
                if D.pair_overlap(m.pair, pair):
                    md = m
            if md is None or mv[2] >= len(md.state.entries):
                raise LfsError("pending move points at a missing entry (pair %d,%d id %d)" % mv)
            self.gstate = D.g_with_move(self.gstate, None, 0)
            c = md.begin()
            c.delete(mv[2])
            await M.commit(self, md, c)
        n = D.g_orphans(self.gstate)
        if n:                                    # drop directories cut off by a power loss
            mds = await self.walk_pairs()
            referenced = set()
            for m in mds:
                for e in m.state.entries:
                    if e.typ == D.T_DIR and e.stype == D.T_DIRSTRUCT and len(e.sdata) == 8:
                        p = struct.unpack("<II", e.sdata)
                        referenced.add((p[0], p[1]))
                        referenced.add((p[1], p[0]))
            for m in mds:
                t = m.state.tail
                if t is None or t[0]:
                    continue
                tp = (t[1][0], t[1][1])
                tmd = await self.get(tp)
                if tp in referenced or any(e.typ == D.T_SUPERBLOCK for e in tmd.state.entries):
                    continue
                ch = await self.chain(tp)
                if any(x.state.entries for x in ch):
                    # ours are always empty; a non-empty one is a half-done relocation
                    # by another implementation, which this one does not repair
                    raise LfsError("unreferenced non-empty metadata pair %d,%d (an "
                                   "interrupted relocation): mount it read-only" % tp)
                extra = D.GZERO
                for x in ch:
                    extra = D.gxor(extra, x.state.gdelta)
                self.gstate = D.g_with_orphans(self.gstate, -D.g_orphans(self.gstate))
                c = m.begin()
                lt = ch[-1].state.tail
                c.set_tail(None if lt is None else (False, lt[1]))
                await M.commit(self, m, c, extra)
                return await self._fixups()
            self.gstate = D.g_with_orphans(self.gstate, -n)
            md = await self.get(ROOT)
            await M.commit(self, md, md.begin())
        await self.io.flush()


async def format(dev, block_size=4096, block_count=None):
    """Make an empty littlefs on dev (every earlier content is lost)."""
    if dev.read_only:
        raise OSError(EROFS, "device is read-only")
    io = Blocks(dev, block_size)
    if block_count is None:
        block_count = io.count
    if block_count < 4 or block_count > io.count:
        raise ValueError("block count %d: need 4..%d" % (block_count, io.count))
    io.count = block_count
    await io.write(1, 0, bytes(io.prog))           # no stale log may win in block 1
    sb = M.Entry(D.T_SUPERBLOCK, D.MAGIC, D.T_INLINESTRUCT,
                 D.pack_superblock(block_size, block_count))
    await M._write_log(io, 0, 1, M.MState([sb]).attrs())
    await io.flush()


async def mount(dev, read_only=None, block_size=None):
    """Mount the littlefs on dev. Read-only if the device is (or read_only=True); a
    read-write mount first finishes what a power cut interrupted (a move, orphans)."""
    ro = dev.read_only if read_only is None else (read_only or dev.read_only)
    ss = dev.sector_size
    sizes = [block_size] if block_size else [4096, 512, 8192, 16384, 32768, 65536, 1024, 2048]
    last = None
    for bs in sizes:
        if bs < ss or bs % ss or dev.sectors * ss < 2 * bs:
            continue
        io = Blocks(dev, bs)
        try:
            md = await M.fetch(io, ROOT)
        except LfsError as e:
            last = e
            continue
        es = md.state.entries
        if not es or es[0].typ != D.T_SUPERBLOCK or es[0].name != D.MAGIC:
            last = LfsError("blocks 0 and 1 hold no littlefs superblock")
            continue
        ver, sbs, count, name_max, file_max, attr_max = D.unpack_superblock(es[0].sdata)
        if sbs != bs:
            last = LfsError("superblock says block size %d" % sbs)
            if sbs in sizes:
                continue
            raise LfsError("unsupported block size %d (sector size %d)" % (sbs, ss))
        if ver >> 16 != 2 or ver & 0xffff > 1:
            raise LfsError("littlefs on-disk version %d.%d (this reads 2.0 and 2.1)"
                           % (ver >> 16, ver & 0xffff))
        if count < 2 or count > io.count:
            raise LfsError("superblock says %d blocks, the device has %d" % (count, io.count))
        if name_max and name_max > D.NAME_MAX:
            raise LfsError("name_max %d larger than ours (%d)" % (name_max, D.NAME_MAX))
        if attr_max and attr_max > D.ATTR_MAX:
            raise LfsError("attr_max %d larger than ours (%d)" % (attr_max, D.ATTR_MAX))
        fs = FS(io, count, ro)
        g = D.GZERO
        root = None
        for m in await fs.walk_pairs():
            g = D.gxor(g, m.state.gdelta)
            if m.state.entries and m.state.entries[0].typ == D.T_SUPERBLOCK:
                root = m.pair
        fs.root = root
        fs.gstate = g
        fs.gdisk = g
        if ro:
            fs.cache = {}           # refetch with the pending move applied
        else:
            await fs._fixups()
        return fs
    raise last or LfsError("no littlefs superblock found")
