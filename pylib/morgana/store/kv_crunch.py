# Read-only kv store over files frozen into the image by `morgana.host.crunch`.
# The generated module holds FILES = {name: (mtime, content_type, data)}; frozen by
# mpy-cross the data bytes live in the image's rodata, so view() hands out memoryviews
# over them and serving a file copies nothing.


class KV:
    def __init__(self, files):
        if not isinstance(files, dict):
            raise TypeError("kv_crunch.KV needs the FILES dict of a crunched module")
        for name in files:
            e = files[name]
            if (not isinstance(name, str) or not isinstance(e, tuple) or len(e) != 3
                    or not isinstance(e[0], int)):
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
            v = self._views[name] = memoryview(e[2])
        return v

    async def size(self, name):
        e = self._files.get(name)
        return None if e is None else len(e[2])

    async def read(self, name, off=0, n=None):
        """Bytes [off, off+n) of name (clipped at the end); KeyError if absent."""
        data = self._entry(name)[2]
        if off < 0 or (n is not None and n < 0):
            raise ValueError("negative offset or length")
        end = len(data) if n is None else min(len(data), off + n)
        if off >= end:
            return b""
        return bytes(self.view(name)[off:end])

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
