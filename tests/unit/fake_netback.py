# A fake netback (rx-copy mode) on fake_xen, plus knobs that make it lie.
import fake_xen
from fake_backends import FakeBackend, BackRing, map_ring

TX_REQ, TX_RSP, TX_ENTRY = "<IHHHH", "<Hh", 12
RX_REQ, RX_RSP, RX_ENTRY = "<HxxI", "<HHHh", 8


class FakeNetback(FakeBackend):
    kind = "vif"
    connect_on = (4,)

    def __init__(self, d, devid, mac="00:16:3e:00:00:01", **kw):
        self.mac = mac
        self.rx_copy = True
        FakeBackend.__init__(self, d, devid, **kw)
        d.set(self.front + "/mac", mac)
        d.set(self.front + "/handle", str(devid))
        self.sent = []          # frames the guest transmitted
        self.backlog = []       # frames waiting for an rx buffer
        self.rx_posted = []     # (id, gref) buffers the guest gave us
        self.hold_tx = False    # don't answer tx (fills the guest's slots)
        self.rx_offset = 0
        # misbehaviour knobs (each applies to the next response it can)
        self.bad = None         # 'rx_id', 'rx_len', 'rx_offset', 'rx_flags', 'tx_id',
        #                         'tx_dup', 'rsp_prod'
        self.keep_mapped = False
        self.mapped = []

    def features(self):
        d, b = self.d, self.back
        d.set(b + "/mac", self.mac)
        d.set(b + "/feature-rx-copy", "1" if self.rx_copy else "0")
        d.set(b + "/feature-rx-flip", "0")

    def connect(self):
        assert self.fget("request-rx-copy") == "1", "frontend must use rx-copy"
        self.port = int(self.fget("event-channel"))
        self.tx_ref = int(self.fget("tx-ring-ref"))
        self.rx_ref = int(self.fget("rx-ring-ref"))
        self.tx = BackRing(map_ring(self.tx_ref, self.domid), TX_REQ, TX_RSP, TX_ENTRY)
        self.rx = BackRing(map_ring(self.rx_ref, self.domid), RX_REQ, RX_RSP, RX_ENTRY)
        fake_xen.bind_backend(self.port, self.service)

    def disconnect(self):
        if not self.keep_mapped:
            fake_xen.unmap_grant(self.tx_ref)
            fake_xen.unmap_grant(self.rx_ref)

    def _notify(self, want):
        if want:
            fake_xen.raise_event(self.port)

    def service(self):
        if not self.connected:
            return
        want = False
        for (gref, off, flags, i, size) in self.tx.requests():
            assert flags == 0 and off + size <= 4096
            view = fake_xen.map_grant(self.domid, gref, False)
            self.sent.append(bytes(view[off:off + size]))
            if self.keep_mapped:
                self.mapped.append(gref)
            else:
                fake_xen.unmap_grant(gref)
            if self.hold_tx:
                self.held = getattr(self, "held", []) + [i]
                continue
            self._tx_response(i)
        want = self.tx.push_responses()
        if self.bad == "rsp_prod":
            self.tx.set_rsp_prod(self.tx.rsp_prod_pvt + 1000)
            want = True
        self._notify(want)
        self.rx_posted.extend(self.rx.requests())
        self._deliver()

    def _tx_response(self, i):
        if self.bad == "tx_id":
            i, self.bad = i + 300, None
        self.tx.put_response(i, 0)

    def release_tx(self):
        for i in getattr(self, "held", []):
            self._tx_response(i)
        self.held = []
        self._notify(self.tx.push_responses())

    def inject(self, frame):
        """A frame from the outside world towards the guest."""
        self.backlog.append(bytes(frame))
        if self.connected:
            self._deliver()

    def _deliver(self):
        while self.backlog and self.rx_posted:
            frame = self.backlog.pop(0)
            i, gref = self.rx_posted.pop(0)
            # rx-copy: GNTTABOP_copy into the granted page (map/copy/unmap here)
            view = fake_xen.map_grant(self.domid, gref, True)
            off = self.rx_offset
            view[off:off + len(frame)] = frame
            fake_xen.unmap_grant(gref)
            flags, status = 0, len(frame)
            b, self.bad = self.bad, None
            if b == "rx_id":
                i = 999
            elif b == "rx_len":
                status = 4097 - off
            elif b == "rx_offset":
                off = 5000
            elif b == "rx_flags":
                flags = 4
            else:
                self.bad = b
            self.rx.put_response(i, off, flags, status)
        self._notify(self.rx.push_responses())
