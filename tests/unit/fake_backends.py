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


class FakeBackend:
    """Backend half of the XenBus handshake for one device, driven by the frontend's
    state node in the fake xenstored. Subclasses: features(), connect(), disconnect()."""
    kind = "dev"
    connect_on = (3, 4)      # frontend states that mean "rings published"

    def __init__(self, d, devid, domid=BACKEND_DOMID):
        self.d = d
        self.devid = devid
        self.domid = domid
        fd = d.domid
        self.front = "/local/domain/%d/device/%s/%d" % (fd, self.kind, devid)
        self.back = "/local/domain/%d/backend/%s/%d/%d" % (domid, self.kind, fd, devid)
        self.connected = False
        self.refuse_close = False   # misbehaviour: never leaves Connected
        self.states = []            # frontend states seen, in order
        d.set(self.front + "/backend", self.back)
        d.set(self.front + "/backend-id", str(domid))
        d.set(self.front + "/state", "1")
        d.set(self.back + "/frontend", self.front)
        d.set(self.back + "/frontend-id", str(fd))
        self.features()
        d.set(self.back + "/state", "2")
        d.on_write.append(self._written)

    def fget(self, key):
        v = self.d.get(self.front + "/" + key)
        return None if v is None else v.decode()

    def set_state(self, s):
        self.d.set(self.back + "/state", str(s))

    def _written(self, path, value):
        if path != self.front + "/state":
            return
        s = int(value)
        self.states.append(s)
        if s in self.connect_on and not self.connected:
            self.connect()
            self.connected = True
            self.set_state(4)
        elif s == 5 and not self.refuse_close:
            if self.connected:
                self.disconnect()
                self.connected = False
            self.set_state(5)
        elif s == 6 and not self.refuse_close:
            self.set_state(6)

    def features(self):
        pass

    def connect(self):
        pass

    def disconnect(self):
        pass
