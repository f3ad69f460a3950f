# Fake Xen backends for unit tests, working on fake_xen's shared pages like a driver
# domain would: the back end of a request/response ring. The device backends
# (xenstored, netback, blkback, console) live in fake_*d.py / fake_*back.py next to this.
import struct

import fake_xen

HEADER = 64
M32 = 0xFFFFFFFF
BACKEND_DOMID = 0


class BackRing:
    """Back end of a ring.h ring on `mv` (the shared page mapped by the backend)."""

    def __init__(self, mv, req_fmt, rsp_fmt, entry_size):
        self.mv = mv
        self.req_fmt = req_fmt
        self.rsp_fmt = rsp_fmt
        self.esize = entry_size
        n = (len(mv) - HEADER) // entry_size
        p = 1
        while p * 2 <= n:
            p *= 2
        self.size = p
        self.req_cons = 0
        self.rsp_prod_pvt = 0

    def _get(self, i):
        return struct.unpack_from("<I", self.mv, i * 4)[0]

    def _set(self, i, v):
        struct.pack_into("<I", self.mv, i * 4, v & M32)

    def requests(self):
        """New requests (tuples), consumed."""
        out = []
        prod = self._get(0)
        while self.req_cons != prod:
            off = HEADER + (self.req_cons & (self.size - 1)) * self.esize
            out.append(struct.unpack_from(self.req_fmt, self.mv, off))
            self.req_cons = (self.req_cons + 1) & M32
        # RING_FINAL_CHECK_FOR_REQUESTS: ask for an event on the next request
        self._set(1, self.req_cons + 1)
        return out

    def put_response(self, *fields):
        off = HEADER + (self.rsp_prod_pvt & (self.size - 1)) * self.esize
        struct.pack_into(self.rsp_fmt, self.mv, off, *fields)
        self.rsp_prod_pvt = (self.rsp_prod_pvt + 1) & M32

    def push_responses(self):
        """Publish; True when the frontend wants an event (rsp_event protocol)."""
        old = self._get(2)
        new = self.rsp_prod_pvt
        self._set(2, new)
        ev = self._get(3)
        return ((new - ev) & M32) < ((new - old) & M32)

    # misbehaviour helpers
    def set_rsp_prod(self, v):
        self._set(2, v)

    def set_req_event(self, v):
        self._set(1, v)


def map_ring(ref, domid=BACKEND_DOMID):
    return fake_xen.map_grant(domid, ref, True)
