# littlefs files: inline data (kept in the metadata pair) and CTZ skip lists.
# Writes are copy-on-write: the blocks before the first changed one are shared with the
# committed file, every later block is new, so the committed version stays intact until
# sync()/close() commits the new head and size in one metadata commit.
import struct

from morgana.store import lfs_disk as D
from morgana.store.lfs_disk import LfsError

EBADF = 9
EFBIG = 27


async def ctz_chain(io, head, size):
    """Block numbers of a CTZ file, index 0 first (walks the 0th pointers back)."""
    bs = io.block_size
    n = D.ctz_blocks_for(size, bs)
    if n > io.count:
        raise LfsError("file of %d bytes is larger than the device" % size)
    out = [0] * n
    b = head
    for i in range(n - 1, -1, -1):
        if not 0 <= b < io.count:
            raise LfsError("file block %d outside the %d-block device" % (b, io.count))
        out[i] = b
        if i:
            b = struct.unpack("<I", await io.read(b, 0, 4))[0]
    return out


class _W:
    """A write in progress: new chain (list of blocks), the data of the block being
    built, the file offset it ends at, and the content the write started from."""
    __slots__ = ("new", "buf", "pos", "old", "osize")

    def __init__(self, new, buf, pos, old, osize):
        self.new = new
        self.buf = buf
        self.pos = pos
        self.old = old
        self.osize = osize


class File:
    def __init__(self, fs, dpair, name, flags, entry, truncate):
        self.fs = fs
        self.dpair = dpair
        self.name = name
        self.readable, self.writable, self.append = flags
        self.pos = 0
        self.w = None
        self.closed = False
        self.removed = False
        self.inline = None
        self.blocks = None
        self.head = None
        self.size = 0
        self.dirty = False
        if entry is None or truncate:
            self.inline = bytearray()
            self.dirty = True
        elif entry.stype == D.T_INLINESTRUCT:
            self.inline = bytearray(entry.sdata)
            self.size = len(entry.sdata)
        elif entry.stype == D.T_CTZSTRUCT:
            if len(entry.sdata) != 8:
                raise LfsError("CTZ struct of %d bytes" % len(entry.sdata))
            self.head, self.size = struct.unpack("<II", entry.sdata)
        else:
            raise LfsError("file %r has no data struct" % (name,))

    # -- allocator support -----------------------------------------------------------
    def held_blocks(self):
        """Blocks this handle may reference that the committed metadata might not."""
        out = list(self.blocks) if self.blocks else []
        if self.w is not None:
            out.extend(self.w.new)
        return out

    def _check(self):
        if self.closed:
            raise OSError(EBADF, "file is closed")

    def _logical_size(self):
        if self.w is not None:
            return self.w.pos if self.w.pos > self.w.osize else self.w.osize
        return self.size

    async def _load(self):
        if self.blocks is None:
            if self.size == 0:
                self.blocks = []
            else:
                self.blocks = await ctz_chain(self.fs.io, self.head, self.size)
        return self.blocks

    # -- writing the chain -------------------------------------------------------------
    async def _wstart(self, p):
        io = self.fs.io
        bs = io.block_size
        blocks = await self._load()
        pre = b""
        if p == 0:
            keep = []
        else:
            i, o = D.ctz_index(p, bs)
            keep = blocks[:i]
            np4 = 4 * D.ctz_npointers(i)
            if i < len(blocks) and o > np4:
                pre = await io.read(blocks[i], np4, o - np4)
        self.w = _W(keep, bytearray(pre), p, blocks, self.size)

    async def _emit(self):
        io = self.fs.io
        w = self.w
        i = len(w.new)
        hdr = bytearray()
        for k in range(D.ctz_npointers(i)):
            hdr += struct.pack("<I", w.new[i - (1 << k)])
        data = hdr + w.buf
        pad = len(data) % io.prog
        if pad:
            data += bytes(io.prog - pad)
        b = await self.fs.alloc()
        await io.write(b, 0, data)
        w.new.append(b)
        w.buf = bytearray()

    async def _wwrite(self, data):
        bs = self.fs.io.block_size
        w = self.w
        mv = memoryview(data)
        k = 0
        n = len(data)
        while k < n:
            cap = bs - 4 * D.ctz_npointers(len(w.new))
            c = cap - len(w.buf)
            if c > n - k:
                c = n - k
            w.buf += mv[k:k + c]
            k += c
            w.pos += c
            if len(w.buf) == cap:
                await self._emit()

    async def _wflush(self):
        w = self.w
        if w is None:
            return
        io = self.fs.io
        bs = io.block_size
        while w.pos < w.osize:
            i, o = D.ctz_index(w.pos, bs)
            c = bs - o
            if c > w.osize - w.pos:
                c = w.osize - w.pos
            await self._wwrite(await io.read(w.old[i], o, c))
        if w.buf:
            await self._emit()
        self.blocks = w.new
        self.size = w.pos
        self.head = w.new[-1] if w.new else None
        self.w = None

    # -- API ---------------------------------------------------------------------------
    async def write(self, data):
        fs = self.fs
        await fs.lock.acquire()
        try:
            self._check()
            if not self.writable:
                raise OSError(EBADF, "file not open for writing")
            n = len(data)
            if self.append:
                self.pos = self._logical_size()
            if self.pos + n > D.FILE_MAX:
                raise OSError(EFBIG, "file would exceed %d bytes" % D.FILE_MAX)
            self.dirty = True
            if n == 0:
                return 0
            if self.inline is not None:
                end = self.pos + n
                buf = self.inline
                if len(buf) < self.pos:
                    buf += bytes(self.pos - len(buf))
                buf[self.pos:end] = data
                self.size = len(buf)
                if end <= fs.inline_max:
                    self.pos = end
                    return n
                self.inline = None          # outgrown: becomes a CTZ file
                self.blocks = []
                self.size = 0
                self.w = _W([], bytearray(), 0, [], 0)
                await self._wwrite(buf)
                self.pos = end
                return n
            w = self.w
            if w is not None and w.pos != self.pos:
                await self._wflush()
            if self.w is None:
                if self.pos > self.size:
                    await self._wstart(self.size)
                    gap = self.pos - self.size
                    zero = bytes(4096)
                    while gap > 0:
                        c = 4096 if gap > 4096 else gap
                        await self._wwrite(zero[:c])
                        gap -= c
                else:
                    await self._wstart(self.pos)
            await self._wwrite(data)
            self.pos = self.w.pos
            return n
        finally:
            fs.lock.release()

    async def read(self, n=-1):
        fs = self.fs
        await fs.lock.acquire()
        try:
            self._check()
            if not self.readable:
                raise OSError(EBADF, "file not open for reading")
            await self._wflush()
            left = self.size - self.pos
            if left <= 0:
                return b""
            if n is None or n < 0 or n > left:
                n = left
            if self.inline is not None:
                out = bytes(self.inline[self.pos:self.pos + n])
                self.pos += n
                return out
            io = fs.io
            bs = io.block_size
            blocks = await self._load()
            out = bytearray()
            while len(out) < n:
                i, o = D.ctz_index(self.pos, bs)
                c = bs - o
                if c > n - len(out):
                    c = n - len(out)
                out += await io.read(blocks[i], o, c)
                self.pos += c
            return bytes(out)
        finally:
            fs.lock.release()

    def seek(self, off, whence=0):
        self._check()
        if whence == 1:
            off += self.pos
        elif whence == 2:
            off += self._logical_size()
        elif whence != 0:
            raise ValueError("whence must be 0, 1 or 2")
        if off < 0:
            raise ValueError("negative seek position %d" % off)
        self.pos = off
        return off

    def tell(self):
        return self.pos

    def fsize(self):
        return self._logical_size()

    async def sync(self):
        fs = self.fs
        await fs.lock.acquire()
        try:
            self._check()
            await self._sync()
        finally:
            fs.lock.release()

    async def _sync(self):
        fs = self.fs
        await self._wflush()
        if self.dirty and not self.removed:
            if self.inline is not None:
                st = (D.T_INLINESTRUCT, bytes(self.inline))
            elif self.size == 0:
                st = (D.T_INLINESTRUCT, b"")
            else:
                st = (D.T_CTZSTRUCT, struct.pack("<II", self.head, self.size))
            await fs._commit_file(self.dpair, self.name, st[0], st[1])
        self.dirty = False
        await fs.io.flush()

    async def close(self):
        fs = self.fs
        await fs.lock.acquire()
        try:
            if self.closed:
                return
            try:
                if self.writable:
                    await self._sync()
            finally:
                self.closed = True
                if self in fs.handles:
                    fs.handles.remove(self)
        finally:
            fs.lock.release()
