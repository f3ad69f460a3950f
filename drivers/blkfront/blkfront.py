# Xen PV block frontend (xen/io/blkif.h), the block device of docs/design.md:
#   disk = await blkfront.connect(devid)   .sector_size .sectors .read_only
#   data = await disk.read(sector, count); await disk.write(sector, data); await disk.flush()
#
# Requests carry up to 11 segments, each one page of a pool granted to the backend at
# start (no grant-table work per request). Large transfers are split into such requests
# and issued together, so several are in flight; completions are matched by id in one
# event task. Pages stay with a request until its response arrives, even if the caller
# was cancelled, since the backend may still be writing into them. Requests use 512-byte
# sector units (we do not advertise feature-large-sector-size).
# flush(): BLKIF_OP_FLUSH_DISKCACHE if the backend offers feature-flush-cache, else
# BLKIF_OP_WRITE_BARRIER (feature-barrier), else nothing (the backend then completes a
# write only once it is durable). A disk whose backend leaves Connected (xl
# block-detach, backend gone) fails every request in flight and every later one with
# DiskGone; a read-only disk refuses writes before they reach the ring.
from morgana import sched
from morgana.xen import ring as R
from morgana.xen import gnttab, xenbus
from morgana.xen import xenstore as X

import _xen

OP_READ = 0
OP_WRITE = 1
OP_WRITE_BARRIER = 2
OP_FLUSH_DISKCACHE = 3
RSP_OKAY = 0
RSP_ERROR = -1
RSP_EOPNOTSUPP = -2
MAX_SEGS = 11
PAGE = 4096
UNIT = 512
VDISK_READONLY = 4
REQ = "<BBHxxxxQQ" + "IBBxx" * MAX_SEGS   # op, nr_segs, handle, id, sector, segs
RSP = "<QBxh"                              # id, op, status
ENTRY = 112
_NO_SEGS = (0, 0, 0) * MAX_SEGS


class BlockError(Exception):
    """The backend reported an I/O error (BLKIF_RSP_ERROR)."""


class ReadOnly(BlockError):
    """A write to a disk the backend exports read-only (mode "r" or VDISK_READONLY)."""


class DiskGone(BlockError):
    """The backend left Connected: the disk vanished under us."""


class Blkfront:
    def __init__(self, xs, devid, seg_pages=128):
        self.xs = xs
        self.devid = devid
        self.fe = xenbus.Frontend(xs, "vbd", devid)
        self.name = "vbd%d" % devid
        self.n_pages = seg_pages
        self.error = None
        self.waiters = []
        self.task = None
        self.watcher = None
        self.closing = False
        self.sector_size = UNIT
        self.sectors = 0
        self.read_only = False
        self.flush_op = None
        self.stats = {"reads": 0, "writes": 0, "flushes": 0, "read_bytes": 0,
                      "write_bytes": 0, "errors": 0, "max_inflight": 0, "waits": 0}

    async def start(self):
        fe = self.fe
        await fe.probe()
        dom = fe.backend_id
        self.page = _xen.Page(1)
        self.ring_ref = gnttab.grant_page(dom, self.page)[0]
        self.ring = R.FrontRing(self.page, REQ, RSP, ENTRY, self.name)
        self.ids = R.IdTable(self.ring.size)
        if self.n_pages < MAX_SEGS:
            self.n_pages = MAX_SEGS
        self.pool = gnttab.GrantPool(dom, self.n_pages, readonly=False)
        self.port = _xen.evtchn_alloc_unbound(dom)
        path = fe.path

        async def publish(tx):
            await tx.write(path + "/ring-ref", str(self.ring_ref))
            await tx.write(path + "/event-channel", str(self.port))
        await fe.connect(publish, announce=xenbus.INITIALISED)
        ss = await fe.backend_int("sector-size", UNIT, UNIT, 65536)
        if ss & (ss - 1):
            raise xenbus.XenbusError("%s: sector-size %d not a power of two" % (path, ss))
        self.sector_size = ss
        self.sectors = await fe.backend_int("sectors", None, 0, (1 << 63) // ss)
        info = await fe.backend_int("info", 0, 0, 0xFFFFFFFF)
        mode = await fe.backend_read("mode", "w")
        self.read_only = bool(info & VDISK_READONLY) or mode == "r"
        if await fe.backend_int("feature-flush-cache", 0, 0, 1):
            self.flush_op = OP_FLUSH_DISKCACHE
        elif await fe.backend_int("feature-barrier", 0, 0, 1):
            self.flush_op = OP_WRITE_BARRIER
        _xen.evtchn_unmask(self.port)
        self.task = sched.spawn(self._loop(), self.name)
        w = await self.xs.watch(fe.backend + "/state")
        self.watcher = sched.spawn(self._watch(w), self.name + "-state")
        return self

    async def _watch(self, w):
        """Backend state: anything but Connected (or the node gone) is a vanished disk."""
        try:
            while True:
                await w.get()
                s = await self.fe.backend_state()
                if s != xenbus.CONNECTED and not self.closing:
                    self._fail(DiskGone("%s: disk vanished (backend %s is %s)"
                                        % (self.name, self.fe.backend, xenbus.state_name(s))))
                    return
        finally:
            try:
                await w.unwatch()
            except Exception:
                pass

    def _fail(self, e):
        if self.error is None:
            self.error = e
        for (op, p, pages, n, dest) in self.ids.values():
            if not p.done():
                p.wakeup_exn(self._dead())
        self._wake()

    # -- completions ---------------------------------------------------------------------
    async def _loop(self):
        try:
            while True:
                self._complete()
                await sched.event(self.port)
        except Exception as e:      # RingError, or e.g. MemoryError: never die silently
            if not isinstance(e, R.RingError):
                R.log("%s: driver task failed: %r" % (self.name, e))
            self._fail(e)

    def _complete(self):
        ring = self.ring
        any_done = False
        for (i, op, status) in ring.take_responses():
            sop, p, pages, n, dest = self.ids.release(ring, i)
            bad = None
            if op != sop:
                bad = "response op %d to a request with op %d" % (op, sop)
            elif status not in (RSP_OKAY, RSP_ERROR, RSP_EOPNOTSUPP):
                bad = "response status %d" % status
            if bad is not None:
                if not p.done():    # its id is gone from the table: fail it here
                    p.wakeup_exn(R.RingError("%s: %s" % (self.name, bad)))
                ring.fail(bad)
            if sop == OP_READ and status == RSP_OKAY:
                k = 0           # straight into the caller's buffer: one copy per byte
                for (ref, pg) in pages:
                    c = n - k if n - k < PAGE else PAGE
                    dest[k:k + c] = pg.mv[0:c]
                    k += c
            for it in pages:
                self.pool.give(it)
            any_done = True
            if not p.done():        # its caller may have been cancelled
                p.wakeup(status)
        if any_done:
            self._wake()

    def _wake(self):
        w, self.waiters = self.waiters, []
        R.wake_all(w)

    def _dead(self):
        if isinstance(self.error, BlockError):
            return self.error
        return R.dead_error(self.name, self.error)

    # -- requests ------------------------------------------------------------------------
    def _check(self):
        if self.error is not None:
            raise self._dead()

    async def _request(self, op, unit_sector, data=None, nbytes=0):
        """One ring request over ceil(nbytes/4096) pages; its status. `data`: what to
        write, or (reads) the writable memoryview the data lands in."""
        npages = (nbytes + PAGE - 1) // PAGE
        while True:
            self._check()
            if (self.ring.free_requests() > 0 and self.ids.available() > 0
                    and self.pool.available() >= npages):
                break
            self.stats["waits"] += 1
            w = sched.Promise()
            self.waiters.append(w)
            await w
        pages = []
        segs = []
        k = 0
        for _ in range(npages):
            ref, pg = it = self.pool.take()
            pages.append(it)
            c = nbytes - k if nbytes - k < PAGE else PAGE
            if op == OP_WRITE:
                pg.mv[0:c] = data[k:k + c]
            segs.extend((ref, 0, c // UNIT - 1))
            k += c
        segs.extend(_NO_SEGS[len(segs):])
        p = sched.Promise()
        i = self.ids.alloc((op, p, pages, nbytes, data))
        self.ring.put_request(op, npages, self.devid & 0xFFFF, i, unit_sector, *segs)
        if self.ring.push_requests():
            _xen.evtchn_notify(self.port)
        inflight = self.ring.outstanding()
        if inflight > self.stats["max_inflight"]:
            self.stats["max_inflight"] = inflight
        return await p

    def _range(self, sector, count):
        if not isinstance(sector, int) or not isinstance(count, int):
            raise TypeError("sector and count must be ints")
        if sector < 0 or count <= 0 or sector + count > self.sectors:
            raise ValueError("%s: sectors %d+%d outside the disk (%d sectors)"
                             % (self.name, sector, count, self.sectors))

    async def _rw(self, op, sector, count, data):
        per = self.sector_size // UNIT
        chunk = MAX_SEGS * PAGE                     # bytes per request
        total = count * self.sector_size
        jobs = []
        off = 0
        while off < total:
            n = total - off if total - off < chunk else chunk
            jobs.append(self._request(op, sector * per + off // UNIT, data[off:off + n], n))
            off += n
        res = jobs[0] if len(jobs) == 1 else None
        results = [await res] if res is not None else await sched.join(jobs)
        for status in results:
            if status != RSP_OKAY:
                self.stats["errors"] += 1
                raise BlockError("%s: %s error at sector %d (status %d)"
                                 % (self.name, "read" if op == OP_READ else "write",
                                    sector, status))
        return results

    async def read(self, sector, count):
        self._range(sector, count)
        buf = bytearray(count * self.sector_size)
        await self._rw(OP_READ, sector, count, memoryview(buf))
        self.stats["reads"] += 1
        self.stats["read_bytes"] += len(buf)
        return bytes(buf)

    async def write(self, sector, data):
        if self.read_only:
            raise ReadOnly("%s: read-only disk (backend %s): write refused"
                           % (self.name, self.fe.backend))
        n = len(data)
        if n == 0 or n % self.sector_size:
            raise ValueError("%s: write of %d bytes, not a multiple of %d"
                             % (self.name, n, self.sector_size))
        self._range(sector, n // self.sector_size)
        await self._rw(OP_WRITE, sector, n // self.sector_size, memoryview(data))
        self.stats["writes"] += 1
        self.stats["write_bytes"] += n

    async def flush(self):
        """Ask the backend to make completed writes durable (no-op when it offers no
        flush: then its writes complete only once durable)."""
        if self.flush_op is None:
            return
        status = await self._request(self.flush_op, 0)
        if status == RSP_EOPNOTSUPP:
            self.flush_op = None
        elif status != RSP_OKAY:
            self.stats["errors"] += 1
            raise BlockError("%s: flush failed (status %d)" % (self.name, status))
        self.stats["flushes"] += 1

    async def close(self):
        self.closing = True
        if self.watcher is not None:
            self.watcher.cancel()
        ok = await self.fe.close()
        if self.task is not None:
            self.task.cancel()
        _xen.evtchn_close(self.port)
        gnttab.release([self.ring_ref], self.page)
        self.pool.close()
        return ok


async def connect(devid, xs=None, **kw):
    """Bring up vbd `devid` (device/vbd/<devid>; e.g. 51712 for xvda)."""
    return await Blkfront(xs or X.client(), devid, **kw).start()


async def connect_all(xs=None, **kw):
    xs = xs or X.client()
    out = []
    for d in await xenbus.devices(xs, "vbd"):
        out.append(await connect(d, xs, **kw))
    return out
