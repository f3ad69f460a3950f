# A fake blkback over a bytearray disk on fake_xen, plus knobs that make it misbehave.
import struct

import fake_xen
from fake_backends import FakeBackend, BackRing, map_ring

REQ = "<BBHxxxxQQ" + "IBBxx" * 11
RSP = "<QBxh"
ENTRY = 112


class FakeBlkback(FakeBackend):
    kind = "vbd"
    connect_on = (3,)

    def __init__(self, d, devid, sectors=1024, sector_size=512, flush=True, info=0,
                 barrier=False, **kw):
        self.disk = bytearray(sectors * sector_size)
        self.nsectors = sectors
        self.ssize = sector_size
        self.flush = flush
        self.barrier = barrier
        self.barriers = 0
        self.info = info
        FakeBackend.__init__(self, d, devid, **kw)
        self.ops = []           # (op, sector512, nr_segs) of every request
        self.held = []          # requests not yet answered while hold is set
        self.hold = False
        self.flushes = 0
        self.error_sectors = set()
        self.bad = None         # 'id', 'op', 'status', 'rsp_prod', 'dup'
        self.max_seen_inflight = 0

    def features(self):
        d, b = self.d, self.back
        d.set(b + "/sectors", str(self.nsectors))
        d.set(b + "/sector-size", str(self.ssize))
        d.set(b + "/info", str(self.info))
        d.set(b + "/feature-flush-cache", "1" if self.flush else "0")
        d.set(b + "/feature-barrier", "1" if self.barrier else "0")
        d.set(b + "/mode", "r" if self.info & 4 else "w")

    def connect(self):
        self.port = int(self.fget("event-channel"))
        self.ring_ref = int(self.fget("ring-ref"))
        self.ring = BackRing(map_ring(self.ring_ref, self.domid), REQ, RSP, ENTRY)
        fake_xen.bind_backend(self.port, self.service)

    def disconnect(self):
        fake_xen.unmap_grant(self.ring_ref)

    def service(self):
        if not self.connected:
            return
        reqs = self.ring.requests()
        for r in reqs:
            self.ops.append((r[0], r[4], r[1]))
        self.held.extend(reqs)
        if len(self.held) > self.max_seen_inflight:
            self.max_seen_inflight = len(self.held)
        if not self.hold:
            self.release()

    def release(self):
        held, self.held = self.held, []
        for r in held:
            self._do(r)
        want = self.ring.push_responses()
        if self.bad == "rsp_prod":
            self.ring.set_rsp_prod(self.ring.rsp_prod_pvt + 100)
            want = True
        if want:
            fake_xen.raise_event(self.port)

    def _do(self, r):
        op, nseg, handle, rid, sector = r[0], r[1], r[2], r[3], r[4]
        status = 0
        if op in (0, 1):
            pos = sector * 512
            for k in range(nseg):
                gref, first, last = r[5 + 3 * k], r[6 + 3 * k], r[7 + 3 * k]
                assert first <= last <= 7, (first, last)
                n = (last - first + 1) * 512
                if pos + n > len(self.disk) or (pos // 512) in self.error_sectors:
                    status = -1
                    break
                view = fake_xen.map_grant(self.domid, gref, op == 0)
                a = first * 512
                if op == 0:
                    view[a:a + n] = self.disk[pos:pos + n]
                else:
                    self.disk[pos:pos + n] = view[a:a + n]
                fake_xen.unmap_grant(gref)
                pos += n
        elif op == 2 and self.barrier and nseg == 0:
            self.barriers += 1
        elif op == 3:
            if self.flush:
                self.flushes += 1
            else:
                status = -2
        else:
            status = -2
        b, self.bad = self.bad, None
        if b == "id":
            rid += 1000
        elif b == "op":
            op = (op + 1) & 0xFF
        elif b == "status":
            status = 7
        elif b == "dup":
            self.ring.put_response(rid, op, status)
        else:
            self.bad = b
        self.ring.put_response(rid, op, status)

    def vanish(self):
        """The toolstack tears the backend down (xl block-detach): state Closed, no
        answers to what is in flight."""
        self.connected = False
        self.set_state(6)

    def write_sectors(self, sector, data):
        """dom0 writes the file backing the disk."""
        self.disk[sector * self.ssize:sector * self.ssize + len(data)] = data

    def read_sectors(self, sector, count):
        return bytes(self.disk[sector * self.ssize:(sector + count) * self.ssize])
