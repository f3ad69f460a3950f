# littlefs blocks over a block device of docs/design.md (.sector_size .sectors,
# await read/write/flush). A littlefs block is block_size // sector_size sectors; reads
# and writes are whole sectors (the program size is the sector size).
# Ordering: barrier() flushes the device if anything was written since the last flush;
# the filesystem calls it before every metadata commit, so data a commit points at, and
# every earlier commit, are durable before the commit can be (a caching disk may
# reorder writes between flushes).
from morgana.store.lfs_disk import LfsError


class Blocks:
    def __init__(self, dev, block_size):
        ss = dev.sector_size
        if block_size % ss or block_size < ss:
            raise LfsError("block size %d is not a multiple of the %d-byte sector"
                           % (block_size, ss))
        self.dev = dev
        self.block_size = block_size
        self.prog = ss
        self.spb = block_size // ss
        self.count = dev.sectors // self.spb
        self.dirty = False
        self.read_only = dev.read_only

    def _check(self, block):
        if not 0 <= block < self.count:
            raise LfsError("block %d outside the %d-block device" % (block, self.count))

    async def read(self, block, off, n):
        """n bytes at offset off of block."""
        self._check(block)
        if off < 0 or n < 0 or off + n > self.block_size:
            raise LfsError("read %d+%d outside a %d-byte block" % (off, n, self.block_size))
        if n == 0:
            return b""
        ss = self.prog
        s0 = off // ss
        s1 = (off + n + ss - 1) // ss
        data = await self.dev.read(block * self.spb + s0, s1 - s0)
        a = off - s0 * ss
        if a == 0 and n == len(data):
            return data
        return data[a:a + n]

    async def read_block(self, block):
        self._check(block)
        return await self.dev.read(block * self.spb, self.spb)

    async def write(self, block, off, data):
        """Write data (whole sectors) at sector-aligned offset off of block."""
        self._check(block)
        if off % self.prog or len(data) % self.prog or off + len(data) > self.block_size:
            raise LfsError("unaligned write %d+%d" % (off, len(data)))
        if len(data) == 0:
            return
        self.dirty = True
        await self.dev.write(block * self.spb + off // self.prog, data)

    async def barrier(self):
        if self.dirty:
            self.dirty = False
            await self.dev.flush()

    async def flush(self):
        self.dirty = False
        await self.dev.flush()
