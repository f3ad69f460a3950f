# Front end of a Xen shared request/response ring (xen/io/ring.h) over a granted Page.
#
# The page is shared with a backend we do not trust: every index it writes is checked
# before use, responses are copied out of the ring once (no double fetch, XSA-155) and a
# violation puts the ring into a sticky error state (logged, RingError raised) instead of
# reading or writing outside it. Drivers check ids/lengths with IdTable and ring.fail().
import struct

import _xen

PAGE_SIZE = 4096
HEADER = 64          # req_prod, req_event, rsp_prod, rsp_event, pvt, pad (ring.h sring)
M32 = 0xFFFFFFFF
# word indexes of the shared indices in page.u32
REQ_PROD = 0
REQ_EVENT = 1
RSP_PROD = 2
RSP_EVENT = 3


class RingError(Exception):
    """The backend broke the ring protocol; the device is unusable from now on."""


def log(msg):
    print(msg)


def wake_all(waiters):
    """Wake every promise of `waiters` still waiting. Callers hand over a list they have
    already replaced, so a woken task can queue itself again on the fresh one."""
    for p in waiters:
        if not p.done():
            p.wakeup()


def dead_error(name, error):
    """The RingError a device in its error state raises to every later caller."""
    return RingError(str(error) if isinstance(error, RingError) else "%s: %r" % (name, error))


def ring_entries(nbytes, entry_size):
    """Entries that fit: the largest power of two (ring.h __RD32)."""
    n = (nbytes - HEADER) // entry_size
    if n < 1:
        raise ValueError("ring entry of %d bytes does not fit" % entry_size)
    p = 1
    while p * 2 <= n:
        p *= 2
    return p


class FrontRing:
    """Requests and responses are tuples packed with struct formats `req_fmt`/`rsp_fmt`
    into slots of `entry_size` bytes (the size of the C union of both)."""

    def __init__(self, page, req_fmt, rsp_fmt, entry_size, name="ring"):
        if struct.calcsize(req_fmt) > entry_size or struct.calcsize(rsp_fmt) > entry_size:
            raise ValueError("entry_size smaller than a request or response")
        self.page = page
        self.mv = page.mv
        self.u32 = page.u32
        self.req_fmt = req_fmt
        self.rsp_fmt = rsp_fmt
        self.esize = entry_size
        self.name = name
        self.size = ring_entries(len(page.mv), entry_size)
        self.mask = self.size - 1
        self.error = None
        self.req_prod_pvt = 0   # next request slot we fill
        self.req_pushed = 0     # what we published (the shared copy may be overwritten)
        self.rsp_cons = 0       # next response we read
        # SHARED_RING_INIT
        u = self.u32
        u[REQ_PROD] = 0
        u[RSP_PROD] = 0
        u[REQ_EVENT] = 1
        u[RSP_EVENT] = 1
        self.mv[16:HEADER] = bytes(HEADER - 16)

    # -- error state -------------------------------------------------------------------
    def fail(self, why):
        """Enter the error state (first reason kept), log it and raise RingError."""
        if self.error is None:
            self.error = why
            log("%s: ring error: %s" % (self.name, why))
        raise RingError("%s: %s" % (self.name, self.error))

    def check(self):
        if self.error is not None:
            raise RingError("%s: %s" % (self.name, self.error))

    # -- requests ----------------------------------------------------------------------
    def free_requests(self):
        return self.size - ((self.req_prod_pvt - self.rsp_cons) & M32)

    def outstanding(self):
        """Requests queued or published that have no response yet."""
        return (self.req_prod_pvt - self.rsp_cons) & M32

    def put_request(self, *fields):
        if self.error is not None:
            self.check()
        if self.free_requests() <= 0:
            raise RingError("%s: ring full (caller must check free_requests)" % self.name)
        off = HEADER + (self.req_prod_pvt & self.mask) * self.esize
        struct.pack_into(self.req_fmt, self.mv, off, *fields)
        self.req_prod_pvt = (self.req_prod_pvt + 1) & M32

    def push_requests(self):
        """Publish queued requests; returns True when the backend asked to be notified."""
        if self.error is not None:
            self.check()
        old = self.req_pushed
        new = self.req_prod_pvt
        if old == new:
            return False
        _xen.wmb()      # backend sees requests before the new producer index
        self.u32[REQ_PROD] = new
        self.req_pushed = new
        _xen.mb()       # publish req_prod before reading req_event
        ev = self.u32[REQ_EVENT]
        return ((new - ev) & M32) < ((new - old) & M32)

    # -- responses ---------------------------------------------------------------------
    def _unconsumed(self):
        prod = self.u32[RSP_PROD]
        n = (prod - self.rsp_cons) & M32
        # The backend can only answer requests it was shown (RING_RESPONSE_PROD_OVERFLOW,
        # tightened to what we published).
        if n > ((self.req_pushed - self.rsp_cons) & M32):
            self.fail("rsp_prod %d ahead of requests (rsp_cons %d, req_prod %d)"
                      % (prod, self.rsp_cons, self.req_pushed))
        return n

    def take_responses(self):
        """Copy out every available response (list of tuples) and re-arm rsp_event so
        the next response raises an event (RING_FINAL_CHECK_FOR_RESPONSES)."""
        if self.error is not None:
            self.check()
        out = []
        fmt = self.rsp_fmt
        mv = self.mv
        while True:
            n = self._unconsumed()
            if n == 0:
                self.u32[RSP_EVENT] = (self.rsp_cons + 1) & M32
                _xen.mb()
                if self._unconsumed() == 0:
                    return out
                continue
            _xen.rmb()  # read responses only after reading rsp_prod
            cons = self.rsp_cons
            for i in range(n):
                off = HEADER + ((cons + i) & self.mask) * self.esize
                out.append(struct.unpack_from(fmt, mv, off))
            self.rsp_cons = (cons + n) & M32


class IdTable:
    """Request ids in flight with their per-request state; a response id that is not
    outstanding is a protocol error (the frontend must never act on it twice)."""

    def __init__(self, n):
        self.n = n
        self.slots = [None] * n
        self.free = list(range(n - 1, -1, -1))

    def available(self):
        return len(self.free)

    def alloc(self, value):
        if value is None:
            raise ValueError("request state must not be None")
        if not self.free:
            raise RingError("no free request id")
        i = self.free.pop()
        self.slots[i] = value
        return i

    def is_outstanding(self, i):
        return 0 <= i < self.n and self.slots[i] is not None

    def release(self, ring, i):
        """Return the state of outstanding id `i`, freeing it; bad ids fail the ring."""
        if not (0 <= i < self.n) or self.slots[i] is None:
            ring.fail("response id %r not outstanding" % (i,))
        v = self.slots[i]
        self.slots[i] = None
        self.free.append(i)
        return v

    def values(self):
        return [v for v in self.slots if v is not None]
