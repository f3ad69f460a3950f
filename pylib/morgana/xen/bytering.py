# Byte-stream rings with free-running 32-bit indices, as used by the xenstore
# (xs_wire.h) and console (console.h) pages: one ring per direction, the size a power of
# two, the producer and consumer indices in the same page. The peer's index is checked
# on every read (never more than `size` bytes apart from ours) so a lying peer can only
# put the ring into its error state, never make us touch memory outside the ring.
from morgana.xen.ring import RingError, M32
from morgana.xen import ring as _ring

import _xen


class _Base:
    def __init__(self, page, data_off, size, cons_word, prod_word, name):
        if size & (size - 1) or data_off + size > len(page.mv):
            raise ValueError("bad byte ring geometry")
        self.mv = page.mv
        self.u32 = page.u32
        self.off = data_off
        self.size = size
        self.cw = cons_word
        self.pw = prod_word
        self.name = name
        self.error = None

    def fail(self, why):
        if self.error is None:
            self.error = why
            _ring.log("%s: ring error: %s" % (self.name, why))
        raise RingError("%s: %s" % (self.name, self.error))

    def check(self):
        if self.error is not None:
            raise RingError("%s: %s" % (self.name, self.error))


class ByteRingOut(_Base):
    """We produce, the peer consumes."""

    def __init__(self, page, data_off, size, cons_word, prod_word, name="out"):
        _Base.__init__(self, page, data_off, size, cons_word, prod_word, name)
        self.prod = self.u32[prod_word]   # our index; the shared copy is only published
        self.space()                      # validates the state we inherit

    def space(self):
        if self.error is not None:
            self.check()
        cons = self.u32[self.cw]
        used = (self.prod - cons) & M32
        if used > self.size:
            self.fail("consumer index %d inconsistent with producer %d" % (cons, self.prod))
        return self.size - used

    def write(self, data, start=0):
        """Copy as much of data[start:] as fits; returns the byte count (0 if full)."""
        free = self.space()
        n = len(data) - start
        if n > free:
            n = free
        if n <= 0:
            return 0
        mask = self.size - 1
        pos = self.prod & mask
        first = self.size - pos
        if first > n:
            first = n
        base = self.off
        self.mv[base + pos:base + pos + first] = data[start:start + first]
        if n > first:
            self.mv[base:base + n - first] = data[start + first:start + n]
        self.prod = (self.prod + n) & M32
        _xen.wmb()      # data before the index
        self.u32[self.pw] = self.prod
        return n


class ByteRingIn(_Base):
    """The peer produces, we consume."""

    def __init__(self, page, data_off, size, cons_word, prod_word, name="in"):
        _Base.__init__(self, page, data_off, size, cons_word, prod_word, name)
        self.cons = self.u32[cons_word]
        self.available()

    def available(self):
        if self.error is not None:
            self.check()
        prod = self.u32[self.pw]
        n = (prod - self.cons) & M32
        if n > self.size:
            self.fail("producer index %d more than a ring ahead of %d" % (prod, self.cons))
        return n

    def read(self, limit=None):
        """Take up to `limit` available bytes (copied out); b'' when empty."""
        n = self.available()
        if limit is not None and n > limit:
            n = limit
        if n == 0:
            return b""
        _xen.rmb()      # index before the data
        mask = self.size - 1
        pos = self.cons & mask
        base = self.off
        first = self.size - pos
        if first >= n:
            out = bytes(self.mv[base + pos:base + pos + n])
        else:
            out = bytes(self.mv[base + pos:base + self.size]) + bytes(self.mv[base:base + n - first])
        _xen.mb()       # finish reading before handing the space back
        self.cons = (self.cons + n) & M32
        self.u32[self.cw] = self.cons
        return out
