# A small xenstored for unit tests, serving the guest's xenstore ring page in fake_xen:
# a tree of nodes, watches (fired on registration and on changes at or below the watched
# path), snapshot transactions that fail with EAGAIN on conflicting commits, errors as
# xs_wire strings. Knobs make it misbehave (lying indices, oversized/unsolicited replies).
import struct

import fake_xen

RING = 1024
REQ_CONS, REQ_PROD, RSP_CONS, RSP_PROD = 2048, 2052, 2056, 2060
M32 = 0xFFFFFFFF
XS_DIRECTORY, XS_READ, XS_WATCH, XS_UNWATCH = 1, 2, 4, 5
XS_TRANSACTION_START, XS_TRANSACTION_END, XS_GET_DOMAIN_PATH = 6, 7, 10
XS_WRITE, XS_MKDIR, XS_RM, XS_WATCH_EVENT, XS_ERROR = 11, 12, 13, 15, 16


class XsErr(Exception):
    pass


def _get(mv, off):
    return struct.unpack_from("<I", mv, off)[0]


def _put(mv, off, v):
    struct.pack_into("<I", mv, off, v & M32)


class FakeXenstored:
    def __init__(self, domid=fake_xen.DOMID_SELF):
        self.domid = domid
        self.home = "/local/domain/%d" % domid
        page = fake_xen.store_page()
        self.port = fake_xen.start_info()["store_evtchn"]
        self.mv = page.mv
        self.tree = {"/": b"", "/local": b"", "/local/domain": b"", self.home: b""}
        self.gen = 0
        self.txs = {}
        self.next_tx = 1
        self.watches = []           # [abs_path, token, relative?]
        self.inbuf = bytearray()
        self.outbuf = bytearray()
        self.log = []               # (type, path) of every request, for assertions
        self.on_write = []          # callbacks fn(abs_path, value): play a backend
        # misbehaviour knobs
        self.eagain_commits = 0     # answer EAGAIN to this many commits
        self.denied = set()         # abs paths answering EACCES
        self.lie_rsp_prod = False
        self.oversize_reply = False
        self.unknown_reply_id = False
        self.wrong_reply_type = False
        self.bad_req_cons = False
        self.hold = False           # leave requests unanswered
        self.in_service = False
        self.req_cons = 0
        fake_xen.bind_backend(self.port, self.service)

    # -- tree ----------------------------------------------------------------------------
    def abs(self, p):
        return p if p.startswith("/") else self.home + "/" + p

    def children(self, tree, p):
        pre = "/" if p == "/" else p + "/"
        out = []
        for k in tree:
            if k != "/" and k.startswith(pre) and "/" not in k[len(pre):]:
                out.append(k[len(pre):])
        out.sort()
        return out

    def set(self, p, v, tree=None):
        """Write a node (creating parents) from the test/toolstack side; fires watches."""
        tree = self.tree if tree is None else tree
        p = self.abs(p)
        parts = p.split("/")[1:]
        for i in range(1, len(parts)):
            q = "/" + "/".join(parts[:i])
            if q not in tree:
                tree[q] = b""
        tree[p] = v if isinstance(v, bytes) else str(v).encode()
        if tree is self.tree:
            self.gen += 1
            self.fire(p)
            for cb in self.on_write:
                cb(p, tree[p])

    def get(self, p):
        return self.tree.get(self.abs(p))

    def remove(self, p, tree=None):
        tree = self.tree if tree is None else tree
        p = self.abs(p)
        for k in list(tree):
            if k == p or k.startswith(p + "/"):
                del tree[k]
        if tree is self.tree:
            self.gen += 1
            self.fire(p)

    def fire(self, p):
        for (w, token, rel) in self.watches:
            if p == w or p.startswith(w + "/") or w.startswith(p + "/"):
                shown = p[len(self.home) + 1:] if rel and p.startswith(self.home + "/") else p
                self.send(XS_WATCH_EVENT, 0, 0, shown.encode() + b"\x00" + token.encode() + b"\x00")
        if not self.in_service:
            self.flush()    # a change made by another domain: deliver now

    # -- wire ----------------------------------------------------------------------------
    def send(self, mtype, req_id, tx_id, payload):
        self.outbuf.extend(struct.pack("<IIII", mtype, req_id, tx_id, len(payload)) + payload)

    def service(self):
        self.in_service = True
        try:
            self._service()
        finally:
            self.in_service = False

    def _service(self):
        mv = self.mv
        cons, prod = self.req_cons, _get(mv, REQ_PROD)
        if ((prod - cons) & M32) > RING:
            raise RuntimeError("fake xenstored: guest req_prod out of range")
        if cons != prod:
            fake_xen.raise_event(self.port)     # like xenstored: space freed
        while cons != prod:
            self.inbuf.append(mv[cons & (RING - 1)])
            cons = (cons + 1) & M32
        self.req_cons = cons
        _put(mv, REQ_CONS, cons)
        if self.bad_req_cons:
            _put(mv, REQ_CONS, prod + 4000)
        while not self.hold and len(self.inbuf) >= 16:
            t, rid, tx, ln = struct.unpack_from("<IIII", self.inbuf, 0)
            if len(self.inbuf) < 16 + ln:
                break
            payload = bytes(self.inbuf[16:16 + ln])
            self.inbuf = self.inbuf[16 + ln:]
            self.handle(t, rid, tx, payload)
        self.flush()

    def flush(self):
        mv = self.mv
        cons, prod = _get(mv, RSP_CONS), _get(mv, RSP_PROD)
        n = 0
        while n < len(self.outbuf) and ((prod - cons) & M32) < RING:
            mv[RING + (prod & (RING - 1))] = self.outbuf[n]
            prod = (prod + 1) & M32
            n += 1
        self.outbuf = self.outbuf[n:]
        _put(mv, RSP_PROD, prod + (5000 if self.lie_rsp_prod else 0))
        if n or self.lie_rsp_prod:
            fake_xen.raise_event(self.port)

    def handle(self, t, rid, tx, payload):
        args = payload.split(b"\x00")
        self.log.append((t, args[0].decode() if args else ""))
        if self.oversize_reply:
            self.outbuf.extend(struct.pack("<IIII", t, rid, tx, 5000))
            return
        if self.unknown_reply_id:
            rid += 1000
        try:
            reply = self.op(t, tx, args, payload)
            if self.wrong_reply_type:
                t = XS_MKDIR if t != XS_MKDIR else XS_RM
            self.send(t, rid, tx, reply)
            if t == XS_WATCH:
                # xenstored fires every new watch once, after the reply
                self.send(XS_WATCH_EVENT, 0, 0, payload)
        except XsErr as e:
            self.send(XS_ERROR, rid, tx, str(e.args[0]).encode() + b"\x00")

    def op(self, t, tx, args, payload):
        # like xenstored: string arguments are nul-terminated (XS_WRITE's value is not)
        if t != XS_WRITE and not payload.endswith(b"\x00"):
            raise XsErr("EINVAL")
        if t == XS_WRITE and b"\x00" not in payload:
            raise XsErr("EINVAL")
        if tx and tx not in self.txs:
            raise XsErr("ENOENT")
        tree = self.txs[tx][1] if tx else self.tree
        if t in (XS_READ, XS_WRITE, XS_MKDIR, XS_RM, XS_DIRECTORY):
            p = self.abs(args[0].decode())
            if p in self.denied:
                raise XsErr("EACCES")
        if t == XS_READ:
            if p not in tree:
                raise XsErr("ENOENT")
            return tree[p]
        if t == XS_WRITE:
            value = payload[len(args[0]) + 1:]
            self.changed(tx, p)
            self.set(p, value, tree)
            return b"OK\x00"
        if t == XS_MKDIR:
            if p not in tree:
                self.changed(tx, p)
                self.set(p, b"", tree)
            return b"OK\x00"
        if t == XS_RM:
            if p not in tree:
                raise XsErr("ENOENT")
            self.changed(tx, p)
            self.remove(p, tree)
            return b"OK\x00"
        if t == XS_DIRECTORY:
            if p not in tree:
                raise XsErr("ENOENT")
            return b"".join(c.encode() + b"\x00" for c in self.children(tree, p))
        if t == XS_WATCH:
            path, token = args[0].decode(), args[1].decode()
            rel = not path.startswith("/")
            self.watches.append([self.abs(path), token, rel])
            return b"OK\x00"
        if t == XS_UNWATCH:
            path, token = self.abs(args[0].decode()), args[1].decode()
            for w in self.watches:
                if w[0] == path and w[1] == token:
                    self.watches.remove(w)
                    return b"OK\x00"
            raise XsErr("ENOENT")
        if t == XS_TRANSACTION_START:
            i = self.next_tx
            self.next_tx += 1
            self.txs[i] = [self.gen, dict(self.tree), []]
            return str(i).encode() + b"\x00"
        if t == XS_TRANSACTION_END:
            if not tx:
                raise XsErr("EINVAL")
            base, snap, changed = self.txs.pop(tx)
            if args[0] != b"T":
                return b"OK\x00"
            if self.eagain_commits > 0:
                self.eagain_commits -= 1
                raise XsErr("EAGAIN")
            if base != self.gen:
                raise XsErr("EAGAIN")
            self.tree = snap
            self.gen += 1
            for p in changed:
                self.fire(p)
                for cb in self.on_write:
                    if p in self.tree:
                        cb(p, self.tree[p])
            return b"OK\x00"
        if t == XS_GET_DOMAIN_PATH:
            return ("/local/domain/%s" % args[0].decode()).encode() + b"\x00"
        raise XsErr("ENOSYS")

    def changed(self, tx, p):
        if tx:
            self.txs[tx][2].append(p)
