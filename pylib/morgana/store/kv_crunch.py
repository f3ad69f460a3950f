# Read-only kv store over files frozen into the image by `morgana.host.crunch`.
# The generated module holds FILES = {name: (mtime, content_type, data)}; frozen by
# mpy-cross the data bytes live in the image's rodata, so view() hands out memoryviews
# over them and serving a file copies nothing. A big file's data is a tuple of chunks
# (see crunch.CHUNK): its view() is a Chunks, sliced like a memoryview.


class Chunks:
    """A file frozen as several constants of `step` bytes (the last may be shorter).
    c[a:b] is a memoryview of one chunk when the range lies within it (no copy), else a
    copy of the range (bytearray); len(c) is the file's size."""

    def __init__(self, parts):
        self.parts = parts
        self.step = len(parts[0])
        self.size = self.step * (len(parts) - 1) + len(parts[-1])
        self._mv = [memoryview(p) for p in parts]

    def __len__(self):
        return self.size

    def __getitem__(self, s):
        n = self.size
        if not isinstance(s, slice):
            i = s + n if s < 0 else s
            if not 0 <= i < n:
                raise IndexError("index out of range")
            return self.parts[i // self.step][i % self.step]
        if s.step is not None and s.step != 1:
            raise ValueError("Chunks slices take no step")
        a = 0 if s.start is None else (s.start + n if s.start < 0 else s.start)
        b = n if s.stop is None else (s.stop + n if s.stop < 0 else s.stop)
        a = 0 if a < 0 else (n if a > n else a)
        b = a if b < a else (n if b > n else b)
        step = self.step
        i = a // step
        if b - i * step <= step:            # within chunk i (or empty)
            if a == b:
                return b""
            return self._mv[i][a - i * step:b - i * step]
        out = bytearray(b - a)
        pos = 0
        while a < b:
            i = a // step
            e = (i + 1) * step
            if e > b:
                e = b
            out[pos:pos + e - a] = self._mv[i][a - i * step:e - i * step]
            pos += e - a
            a = e
        return out


def _valid_data(d):
    if isinstance(d, bytes):
        return True
    if not isinstance(d, tuple) or len(d) < 2:
        return False
    step = len(d[0])
    for i in range(len(d)):
        p = d[i]
        if not isinstance(p, bytes) or not p or (len(p) != step if i < len(d) - 1
                                                 else len(p) > step):
            return False
    return True


class KV:
    def __init__(self, files):
        if not isinstance(files, dict):
            raise TypeError("kv_crunch.KV needs the FILES dict of a crunched module")
        for name in files:
            e = files[name]
            if (not isinstance(name, str) or not isinstance(e, tuple) or len(e) != 3
                    or not isinstance(e[0], int) or not _valid_data(e[2])):
                raise ValueError("malformed crunch entry %r" % (name,))
        self._files = files
        self._views = {}

    def _entry(self, name):
        e = self._files.get(name)
        if e is None:
            raise KeyError("no such file in the crunch store: %r" % (name,))
        return e

    def view(self, name):
        """memoryview over the whole file (zero-copy), or None if absent."""
        v = self._views.get(name)
        if v is None:
            e = self._files.get(name)
            if e is None:
                return None
            d = e[2]
            v = self._views[name] = memoryview(d) if isinstance(d, bytes) else Chunks(d)
        return v

    async def size(self, name):
        e = self._files.get(name)
        if e is None:
            return None
        d = e[2]
        return len(d) if isinstance(d, bytes) else len(self.view(name))

    async def read(self, name, off=0, n=None):
        """Bytes [off, off+n) of name (clipped at the end); KeyError if absent."""
        self._entry(name)
        if off < 0 or (n is not None and n < 0):
            raise ValueError("negative offset or length")
        v = self.view(name)
        end = len(v) if n is None else min(len(v), off + n)
        if off >= end:
            return b""
        return bytes(v[off:end])

    def mtime(self, name):
        e = self._files.get(name)
        return None if e is None else e[0]

    def content_type(self, name):
        e = self._files.get(name)
        return None if e is None else e[1]

    def names(self):
        return sorted(self._files)


def from_module(modname):
    """KV over the FILES of a generated (possibly frozen) module, e.g. '_htdocs'."""
    mod = __import__(modname)
    files = getattr(mod, "FILES", None)
    if files is None:
        raise ValueError("module %r has no FILES table: not made by morgana.host.crunch"
                         % (modname,))
    return KV(files)
