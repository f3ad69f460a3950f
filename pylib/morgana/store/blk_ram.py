# Block device in RAM with the block interface of docs/design.md (.sector_size
# .sectors .read_only, await read/write/flush), for tests: it can log every write, so a
# power cut after any write is the image replay(base, log, n) of the first n writes.


class BlockRAM:
    def __init__(self, sectors=None, sector_size=512, data=None, read_only=False, fill=0):
        if data is not None:
            if len(data) % sector_size:
                raise ValueError("image of %d bytes is not whole %d-byte sectors"
                                 % (len(data), sector_size))
            self.buf = bytearray(data)
        else:
            self.buf = bytearray(bytes([fill]) * (sectors * sector_size))
        self.sector_size = sector_size
        self.sectors = len(self.buf) // sector_size
        self.read_only = read_only
        self.log = None
        self.writes = 0
        self.flushes = 0

    def start_log(self):
        """Record writes from now on; returns the image they start from."""
        self.log = []
        return bytes(self.buf)

    def _check(self, sector, count):
        if sector < 0 or count < 0 or sector + count > self.sectors:
            raise ValueError("sectors %d+%d outside the %d-sector device"
                             % (sector, count, self.sectors))

    async def read(self, sector, count):
        self._check(sector, count)
        ss = self.sector_size
        return bytes(self.buf[sector * ss:(sector + count) * ss])

    async def write(self, sector, data):
        if self.read_only:
            raise OSError(30, "read-only device")
        ss = self.sector_size
        if len(data) % ss:
            raise ValueError("write of %d bytes is not whole sectors" % len(data))
        self._check(sector, len(data) // ss)
        self.buf[sector * ss:sector * ss + len(data)] = data
        self.writes += 1
        if self.log is not None:
            self.log.append((sector, bytes(data)))

    async def flush(self):
        self.flushes += 1

    def image(self):
        return bytes(self.buf)


def replay(base, log, n, sector_size=512):
    """The image after the first n logged writes over base."""
    img = bytearray(base)
    for sector, data in log[:n]:
        img[sector * sector_size:sector * sector_size + len(data)] = data
    return img
