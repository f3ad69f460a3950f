# Xen PV network frontend (xen/io/netif.h), the netif of docs/design.md:
#   nf = await netfront.connect(devid)     .mac .mtu .stats
#   frame = await nf.read();  await nf.write(frame);  await nf.close()
#
# rx: every rx buffer is a page granted writable to the backend once and re-posted after
# each packet (rx-copy mode: the backend grant-copies into it and never maps it, so the
# grant can stay). tx: frames are copied into 2 KiB halves of pages granted read-only up
# front, so the hot path never touches the grant table. One event channel serves both
# rings; one task drains both. Responses are validated (ids outstanding, offset+length
# inside the page, flags we did not negotiate): a bad one puts the device in its error
# state (RingError to readers and writers), it never makes us touch other memory.
from morgana import sched
from morgana.xen import ring as R
from morgana.xen import gnttab, xenbus
from morgana.xen import xenstore as X

import _xen

TX_REQ = "<IHHHH"       # gref, offset, flags, id, size
TX_RSP = "<Hh"          # id, status
TX_ENTRY = 12
RX_REQ = "<HxxI"        # id, pad, gref
RX_RSP = "<HHHh"        # id, offset, flags, status
RX_ENTRY = 8
PAGE = 4096
TX_SLOT = 2048          # a frame never spans two pages
MAX_FRAME = TX_SLOT     # what our single-slot tx and rx accept
NETRXF_MORE_DATA = 4
NETRXF_EXTRA_INFO = 8
NETIF_RSP_OKAY = 0
NETIF_RSP_NULL = 1


def parse_mac(s):
    parts = s.split(":")
    if len(parts) != 6:
        raise xenbus.XenbusError("bad mac %r" % (s,))
    try:
        b = bytes([int(p, 16) for p in parts])
    except ValueError:
        raise xenbus.XenbusError("bad mac %r" % (s,))
    for p in parts:
        if len(p) != 2:
            raise xenbus.XenbusError("bad mac %r" % (s,))
    return b


class Netfront:
    def __init__(self, xs, devid, rx_buffers=64, tx_slots=64, rxq_len=128):
        self.xs = xs
        self.devid = devid
        self.fe = xenbus.Frontend(xs, "vif", devid)
        self.name = "vif%d" % devid
        self.mac = None
        self.mtu = 1500
        self.n_rx = rx_buffers
        self.n_tx = tx_slots
        self.rxq = sched.Queue(rxq_len)
        self.receiver = None
        self._batching = False  # inside _rx_drain: tx requests are pushed at its end
        self.tx_waiters = []
        self.error = None
        self.task = None
        self.stats = {"rx_frames": 0, "rx_bytes": 0, "tx_frames": 0, "tx_bytes": 0,
                      "rx_dropped": 0, "rx_errors": 0, "tx_errors": 0, "tx_waits": 0,
                      "rx_receiver_errors": 0}

    async def start(self):
        fe = self.fe
        await fe.probe()
        mac = await fe.read("mac")
        if mac is None:
            mac = await fe.backend_read("mac")
        if mac is None:
            raise xenbus.XenbusError("%s: no mac in xenstore" % fe.path)
        self.mac = parse_mac(mac)
        if await fe.backend_int("feature-rx-copy", 0, 0, 1) != 1:
            raise xenbus.XenbusError("%s: backend lacks feature-rx-copy" % fe.path)
        dom = fe.backend_id
        self.tx_page = _xen.Page(1)
        self.rx_page = _xen.Page(1)
        self.tx_ring_ref = gnttab.grant_page(dom, self.tx_page)[0]
        self.rx_ring_ref = gnttab.grant_page(dom, self.rx_page)[0]
        self.tx = R.FrontRing(self.tx_page, TX_REQ, TX_RSP, TX_ENTRY, self.name + " tx")
        self.rx = R.FrontRing(self.rx_page, RX_REQ, RX_RSP, RX_ENTRY, self.name + " rx")
        if self.n_rx > self.rx.size:
            self.n_rx = self.rx.size
        if self.n_tx > self.tx.size:
            self.n_tx = self.tx.size
        self.tx_ids = R.IdTable(self.tx.size)
        self.rx_ids = R.IdTable(self.rx.size)
        # tx slots: (gref, page, offset) halves of read-only granted pages
        self.tx_pool = gnttab.GrantPool(dom, (self.n_tx + 1) // 2, readonly=True)
        self.tx_free = []
        for (ref, p) in self.tx_pool.all:
            self.tx_free.append((ref, p, 0))
            self.tx_free.append((ref, p, TX_SLOT))
        self.rx_pool = gnttab.GrantPool(dom, self.n_rx, readonly=False)
        self.port = _xen.evtchn_alloc_unbound(dom)
        path = fe.path

        async def publish(tx):
            await tx.write(path + "/tx-ring-ref", str(self.tx_ring_ref))
            await tx.write(path + "/rx-ring-ref", str(self.rx_ring_ref))
            await tx.write(path + "/event-channel", str(self.port))
            await tx.write(path + "/request-rx-copy", "1")
            await tx.write(path + "/feature-rx-notify", "1")
            # we neither fill in nor accept partial checksums
            await tx.write(path + "/feature-no-csum-offload", "1")
        await fe.connect(publish, announce=xenbus.CONNECTED)
        _xen.evtchn_unmask(self.port)
        while self.rx_pool.available():
            self._post_rx(self.rx_pool.take())
        if self.rx.push_requests():
            _xen.evtchn_notify(self.port)
        self.task = sched.spawn(self._loop(), self.name)
        return self

    # -- the event task -------------------------------------------------------------------
    async def _loop(self):
        try:
            while True:
                self._tx_complete()
                self._rx_drain()
                await sched.event(self.port)
        except Exception as e:      # RingError, or e.g. MemoryError: never die silently
            if not isinstance(e, R.RingError):
                R.log("%s: driver task failed: %r" % (self.name, e))
            self._fail(e)

    def _fail(self, e):
        if self.error is None:
            self.error = e
        while not self.rxq.empty():
            self.rxq.get_nowait()
        self.rxq.put_nowait(None)       # wakes a reader, who raises
        self._wake_tx()

    def _post_rx(self, buf):
        i = self.rx_ids.alloc(buf)
        self.rx.put_request(i, buf[0])

    def _rx_drain(self):
        rx = self.rx
        ids = self.rx_ids
        st = self.stats
        q = self.rxq
        deliver = self.receiver
        self._batching = True   # a receiver's answers go out with one notification, below
        try:
            self._rx_take(rx, ids, st, q, deliver)
        finally:
            self._batching = False
        # one event channel carries both rings: one notification covers the refilled rx
        # requests and the answers queued meanwhile
        need = rx.push_requests()
        if self.tx.push_requests():
            need = True
        if need:
            _xen.evtchn_notify(self.port)

    def _rx_take(self, rx, ids, st, q, deliver):
        for (i, off, flags, status) in rx.take_responses():
            buf = ids.release(rx, i)
            if flags & (NETRXF_MORE_DATA | NETRXF_EXTRA_INFO):
                rx.fail("rx flags %#x without feature-sg/gso" % flags)
            if status < 0:
                st["rx_errors"] += 1
            elif status == 0 or off >= PAGE or off + status > PAGE:
                rx.fail("rx response offset %d length %d outside the page" % (off, status))
            else:
                frame = bytes(buf[1].mv[off:off + status])
                if deliver is not None:
                    st["rx_frames"] += 1
                    st["rx_bytes"] += status
                    try:
                        deliver(frame)
                    except Exception:   # the receiver's bug: not the ring's fault
                        st["rx_receiver_errors"] += 1
                elif q.put_nowait(frame):
                    st["rx_frames"] += 1
                    st["rx_bytes"] += status
                else:
                    st["rx_dropped"] += 1
            self._post_rx(buf)

    def _tx_complete(self):
        tx = self.tx
        ids = self.tx_ids
        freed = False
        for (i, status) in tx.take_responses():
            slot = ids.release(tx, i)
            if status != NETIF_RSP_OKAY:
                self.stats["tx_errors"] += 1
            self.tx_free.append(slot)
            freed = True
        if freed:
            self._wake_tx()

    def _wake_tx(self):
        w, self.tx_waiters = self.tx_waiters, []
        R.wake_all(w)

    def _dead(self):
        return R.dead_error(self.name, self.error)

    # -- netif ------------------------------------------------------------------------------
    def set_receiver(self, fn):
        """From now on call fn(frame) for each received frame, from the driver's event task,
        instead of queueing it for read(): no queue and no task switch per frame. fn must
        not block; None goes back to read()."""
        self.receiver = fn

    async def read(self):
        if self.error is not None:
            raise self._dead()
        f = await self.rxq.get()
        if f is None:
            self.rxq.put_nowait(None)   # for the next reader too
            raise self._dead()
        return f

    def write_nowait(self, frame):
        """Put the frame on the ring if a slot is free now; False: use write() (which
        also reports a dead device or a bad frame)."""
        n = len(frame)
        if self.error is not None or n < 14 or n > MAX_FRAME or n > self.mtu + 18 \
                or not self.tx_free or self.tx.free_requests() <= 0:
            return False
        self._put(frame, n)
        return True

    async def write(self, frame):
        n = len(frame)
        if n < 14 or n > MAX_FRAME or n > self.mtu + 18:
            raise ValueError("%s: frame of %d bytes (mtu %d)" % (self.name, n, self.mtu))
        while True:
            if self.error is not None:
                raise self._dead()
            if self.tx_free and self.tx.free_requests() > 0:
                break
            self.stats["tx_waits"] += 1
            p = sched.Promise()
            self.tx_waiters.append(p)
            await p
        self._put(frame, n)

    def _put(self, frame, n):
        slot = self.tx_free.pop()
        ref, page, off = slot
        page.mv[off:off + n] = frame
        i = self.tx_ids.alloc(slot)
        self.tx.put_request(ref, off, 0, i, n)
        if not self._batching and self.tx.push_requests():
            _xen.evtchn_notify(self.port)
        self.stats["tx_frames"] += 1
        self.stats["tx_bytes"] += n

    async def close(self):
        """XenBus close, then give back every grant (parked if still mapped)."""
        ok = await self.fe.close()
        if self.task is not None:
            self.task.cancel()
        _xen.evtchn_close(self.port)
        gnttab.release([self.tx_ring_ref], self.tx_page)
        gnttab.release([self.rx_ring_ref], self.rx_page)
        self.tx_pool.close()
        self.rx_pool.close()
        return ok


async def connect(devid=0, xs=None, **kw):
    """Bring up vif `devid` (device/vif/<devid> in xenstore)."""
    return await Netfront(xs or X.client(), devid, **kw).start()


async def connect_all(xs=None, **kw):
    """Every vif the toolstack gave us, in device-id order."""
    xs = xs or X.client()
    out = []
    for d in await xenbus.devices(xs, "vif"):
        out.append(await connect(d, xs, **kw))
    return out
