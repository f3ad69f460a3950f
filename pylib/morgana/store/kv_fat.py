# kv store (docs/design.md) over a read-only FAT16/FAT32 volume. The directory tree is
# read once at open (a static site is small), so size/mtime/names need no I/O and a
# lookup is one dict access. Names are '/'-separated paths from the root, as stored
# (long names); lookups also match case-insensitively, as FAT itself does.
from morgana.store import fat

MAX_DEPTH = 32
MAX_ENTRIES = 65536


class KV:
    def __init__(self, vol, files):
        self.vol = vol
        self._files = files                  # path -> fat.Entry
        self._lower = {}
        for p in files:
            self._lower.setdefault(fat.fold(p), files[p])

    def _get(self, name):
        e = self._files.get(name)
        if e is None:
            e = self._lower.get(fat.fold(name))
        return e

    async def size(self, name):
        e = self._get(name)
        return None if e is None else e.size

    async def read(self, name, off=0, n=None):
        e = self._get(name)
        if e is None:
            raise KeyError("no such file on the FAT volume: %r" % (name,))
        return await self.vol.read(e, off, n)

    def mtime(self, name):
        e = self._get(name)
        return None if e is None else e.mtime

    def names(self):
        return sorted(self._files)


async def scan(vol):
    """{path: Entry} of every file on the volume. Directory loops (a subdirectory
    pointing back at an ancestor) and absurd trees raise fat.FatError."""
    files = {}
    seen = set()
    count = [0]

    async def walk(entries, prefix, depth):
        if depth > MAX_DEPTH:
            raise fat.FatError("directories nested deeper than %d" % MAX_DEPTH)
        for e in entries:
            count[0] += 1
            if count[0] > MAX_ENTRIES:
                raise fat.FatError("more than %d directory entries" % MAX_ENTRIES)
            path = prefix + e.name
            if e.is_dir:
                if e.cluster in seen or e.cluster == 0:
                    raise fat.FatError("directory %s loops back (cluster %d)"
                                       % (path, e.cluster))
                seen.add(e.cluster)
                await walk(await vol.listdir(e), path + "/", depth + 1)
            elif path not in files:
                files[path] = e

    await walk(await vol.root(), "", 0)
    return files


async def open_kv(block):
    """Mount the FAT volume on block and index it: `kv = await kv_fat.open_kv(blk)`."""
    vol = await fat.mount(block)
    return KV(vol, await scan(vol))
