# kv store (docs/design.md) over a littlefs filesystem (morgana.store.lfs), read-write:
#   kv = await kv_lfs.open_kv(blk)      # mounts; format first with lfs.format(blk)
#   await kv.put(name, data); await kv.get(name) -> bytes|None; await kv.delete(name)
#   await kv.list(prefix="") -> sorted names
# and the read side every kv has, so www can serve a littlefs disk:
#   await kv.size(name), await kv.read(name, off=0, n=None), kv.mtime(name), kv.names()
# Names are '/'-separated paths; put creates the directories a name needs. A put is one
# metadata commit once the data is written: after a power cut the name holds its old
# value (or is absent) or the new one, never a part.
from morgana.store import lfs

MAX_DEPTH = 32


class KV:
    def __init__(self, fs):
        self.fs = fs
        self._sizes = {}

    async def _scan(self, path, depth):
        if depth > MAX_DEPTH:
            raise lfs.LfsError("directories nested deeper than %d" % MAX_DEPTH)
        for s in await self.fs.scandir(path):
            p = s.name if path == "" else path + "/" + s.name
            if s.type == "dir":
                await self._scan(p, depth + 1)
            else:
                self._sizes[p] = s.size

    async def get(self, name):
        if name not in self._sizes:
            return None
        return await self.read(name)

    async def put(self, name, data):
        parts = [p for p in name.split("/") if p]
        if not parts:
            raise ValueError("empty kv name")
        name = "/".join(parts)
        d = ""
        for p in parts[:-1]:
            d = p if d == "" else d + "/" + p
            try:
                st = await self.fs.stat(d)
                if st.type != "dir":
                    raise OSError(20, "not a directory: %r" % d)
            except OSError as e:
                if e.args[0] != 2:
                    raise
                await self.fs.mkdir(d)
        f = await self.fs.open(name, "wb")
        try:
            await f.write(data)
        finally:
            await f.close()
        self._sizes[name] = len(data)

    async def delete(self, name):
        """True if name was there."""
        name = "/".join(p for p in name.split("/") if p)
        if name not in self._sizes:
            return False
        await self.fs.remove(name)
        del self._sizes[name]
        return True

    async def list(self, prefix=""):
        return sorted(n for n in self._sizes if n.startswith(prefix))

    # -- the read-only kv interface --------------------------------------------------------
    async def size(self, name):
        return self._sizes.get(name)

    async def read(self, name, off=0, n=None):
        if name not in self._sizes:
            raise KeyError("no such file on the littlefs volume: %r" % (name,))
        f = await self.fs.open(name, "rb")
        try:
            if off:
                f.seek(off)
            return await f.read(-1 if n is None else n)
        finally:
            await f.close()

    def mtime(self, name):
        return None             # littlefs keeps no times

    def names(self):
        return sorted(self._sizes)


async def open_kv(block, read_only=None):
    fs = await lfs.mount(block, read_only=read_only)
    kv = KV(fs)
    await kv._scan("", 0)
    return kv
