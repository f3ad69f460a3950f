# A fake xenconsoled on fake_xen's console page: collects guest output, types input.
import struct

import fake_xen

M32 = 0xFFFFFFFF
IN_CONS, IN_PROD, OUT_CONS, OUT_PROD = 3072, 3076, 3080, 3084


class FakeConsoled:
    def __init__(self):
        page = fake_xen.console_page()
        self.port = fake_xen.start_info()["console_evtchn"]
        self.mv = page.mv
        self.output = bytearray()
        self.pending_in = bytearray()
        self.out_cons = 0
        self.paused = False     # stop draining output (guest must wait for space)
        self.lie = None         # 'in_prod' or 'out_cons'
        fake_xen.bind_backend(self.port, self.service)

    def _get(self, off):
        return struct.unpack_from("<I", self.mv, off)[0]

    def _put(self, off, v):
        struct.pack_into("<I", self.mv, off, v & M32)

    def service(self):
        notify = False
        if not self.paused:
            cons, prod = self.out_cons, self._get(OUT_PROD)
            if ((prod - cons) & M32) > 2048:
                raise RuntimeError("fake consoled: guest out_prod out of range")
            while cons != prod:
                self.output.append(self.mv[1024 + (cons & 2047)])
                cons = (cons + 1) & M32
                notify = True
            self.out_cons = cons
            self._put(OUT_CONS, cons)
        cons, prod = self._get(IN_CONS), self._get(IN_PROD)
        n = 0
        while n < len(self.pending_in) and ((prod - cons) & M32) < 1024:
            self.mv[prod & 1023] = self.pending_in[n]
            prod = (prod + 1) & M32
            n += 1
        self.pending_in = self.pending_in[n:]
        self._put(IN_PROD, prod)
        if self.lie == "in_prod":
            self._put(IN_PROD, cons + 5000)
        elif self.lie == "out_cons":
            self._put(OUT_CONS, self._get(OUT_PROD) + 1)
        if n or notify or self.lie:
            fake_xen.raise_event(self.port)

    def type(self, data):
        self.pending_in.extend(data)
        self.service()

    def resume(self):
        self.paused = False
        self.service()
