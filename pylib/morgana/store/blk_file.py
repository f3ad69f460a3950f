# Block device over a host file (unix targets and tests), with the block interface of
# docs/design.md: .sector_size .sectors .read_only, await read/write/flush.
# Every access is bounds-checked: reading past the end is an error, not a short read.
# flush() is fsync(2): MicroPython's file flush calls it, CPython's needs os.fsync.
import os


class BlockFile:
    def __init__(self, path, sector_size=512, read_only=True):
        if sector_size < 512 or sector_size & (sector_size - 1):
            raise ValueError("sector size must be a power of two >= 512, got %r"
                             % (sector_size,))
        self._f = open(path, "rb" if read_only else "r+b")
        self._f.seek(0, 2)
        size = self._f.tell()
        if size % sector_size:
            self._f.close()
            raise ValueError("%s: size %d is not a multiple of the %d-byte sector"
                             % (path, size, sector_size))
        self.path = path
        self.sector_size = sector_size
        self.sectors = size // sector_size
        self.read_only = read_only
        self.flushes = 0

    def _check(self, sector, count):
        if sector < 0 or count < 0 or sector + count > self.sectors:
            raise ValueError("sectors %d+%d outside the %d-sector device %s"
                             % (sector, count, self.sectors, self.path))

    async def read(self, sector, count):
        self._check(sector, count)
        self._f.seek(sector * self.sector_size)
        n = count * self.sector_size
        data = self._f.read(n)
        if len(data) != n:
            raise OSError("short read from %s at sector %d" % (self.path, sector))
        return data

    async def write(self, sector, data):
        if self.read_only:
            raise OSError("%s is read-only" % self.path)
        if len(data) % self.sector_size:
            raise ValueError("write of %d bytes is not whole sectors" % len(data))
        self._check(sector, len(data) // self.sector_size)
        self._f.seek(sector * self.sector_size)
        self._f.write(data)

    async def flush(self):
        if not self.read_only:
            self._f.flush()
            fsync = getattr(os, "fsync", None)
            if fsync is not None:
                fsync(self._f.fileno())
            self.flushes += 1

    def close(self):
        self._f.close()
