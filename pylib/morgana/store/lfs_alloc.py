# Block allocator. A block is free when neither the committed metadata (every pair on
# the threaded tail list and every CTZ file in them), an open file's uncommitted chain,
# nor the current operation references it. The map is rebuilt only when it runs out,
# after a device flush: blocks freed by a commit are reused only once that commit is
# durable, so a power cut can never leave committed metadata over overwritten data.
from morgana.store import lfs_disk as D
from morgana.store.lfs_file import ctz_chain

ENOSPC = 28


class Alloc:
    def __init__(self, fs):
        self.fs = fs
        self.map = None
        self.cursor = 0

    async def used(self):
        """bytearray: 1 for every block referenced by the filesystem or its handles."""
        fs = self.fs
        io = fs.io
        m = bytearray(io.count)
        for md in await fs.walk_pairs():
            m[md.pair[0]] = 1
            m[md.pair[1]] = 1
            for e in md.state.entries:
                if e.stype == D.T_CTZSTRUCT and e.typ == D.T_REG:
                    head, size = fs.ctz_of(e)
                    for b in await ctz_chain(io, head, size):
                        m[b] = 1
        for h in fs.handles:
            for b in h.held_blocks():
                m[b] = 1
        for b in fs.pinned:
            m[b] = 1
        return m

    async def alloc(self):
        fs = self.fs
        for attempt in (0, 1):
            if self.map is None:
                await fs.io.flush()
                self.map = await self.used()
            m = self.map
            j = m.find(b"\x00", self.cursor)
            if j < 0:
                j = m.find(b"\x00", 0)
            if j >= 0:
                m[j] = 1
                self.cursor = j + 1
                fs.pinned.add(j)
                return j
            self.map = None
        raise OSError(ENOSPC, "no free block on the %d-block device" % fs.io.count)

    def free_count(self):
        return -1 if self.map is None else len(self.map) - sum(self.map)
