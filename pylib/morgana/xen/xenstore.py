# xenstore client over the xenstore ring page and its event channel (xen/io/xs_wire.h).
#
# Messages are a 16-byte header (type, req_id, tx_id, len) and `len` payload bytes of
# nul-separated strings. Requests are queued as bytes and pumped into the ring as space
# frees; one reader task drains replies, matches them to waiting requests by req_id (so
# any number of requests can be in flight) and hands watch events to per-watch queues.
# Anything impossible from xenstored (bad indices, oversized or unsolicited replies)
# puts the client into an error state: every waiter and later call gets the error.
import struct

from morgana import sched
from morgana.xen.ring import RingError
from morgana.xen.bytering import ByteRingOut, ByteRingIn

import _xen

# xsd_sockmsg_type
XS_DIRECTORY = 1
XS_READ = 2
XS_GET_PERMS = 3
XS_WATCH = 4
XS_UNWATCH = 5
XS_TRANSACTION_START = 6
XS_TRANSACTION_END = 7
XS_GET_DOMAIN_PATH = 10
XS_WRITE = 11
XS_MKDIR = 12
XS_RM = 13
XS_WATCH_EVENT = 15
XS_ERROR = 16

HEADER = 16
PAYLOAD_MAX = 4096          # XENSTORE_PAYLOAD_MAX
ABS_PATH_MAX = 3072
REL_PATH_MAX = 2048
RING_SIZE = 1024
# word indexes in the page of xenstore_domain_interface's indices
REQ_CONS = 512
REQ_PROD = 513
RSP_CONS = 514
RSP_PROD = 515


class XenstoreError(Exception):
    """xenstored answered with an error; .code is its name (e.g. 'ENOENT')."""
    code = "EIO"

    def __init__(self, msg="", code=None):
        super().__init__(msg)
        if code is not None:
            self.code = code


class NoEntry(XenstoreError):
    code = "ENOENT"


class PermissionDenied(XenstoreError):
    code = "EACCES"


class Again(XenstoreError):
    code = "EAGAIN"


class Exists(XenstoreError):
    code = "EEXIST"


class Invalid(XenstoreError):
    code = "EINVAL"


class Busy(XenstoreError):
    code = "EBUSY"


class ProtocolError(RingError):
    """xenstored (or the ring) broke the protocol; the client is unusable."""


_ERRORS = {}
for _c in (NoEntry, PermissionDenied, Again, Exists, Invalid, Busy):
    _ERRORS[_c.code] = _c
KNOWN_CODES = ("EINVAL", "EACCES", "EEXIST", "EISDIR", "ENOENT", "ENOMEM", "ENOSPC", "EIO",
               "ENOTEMPTY", "ENOSYS", "EROFS", "EBUSY", "EAGAIN", "EISCONN", "E2BIG",
               "EPERM")


def error_for(code, what=""):
    """The exception for an xs_wire error string."""
    cls = _ERRORS.get(code, XenstoreError)
    return cls("%s: %s" % (code, what), code)


def _b(s):
    return s if isinstance(s, (bytes, bytearray)) else s.encode()


def check_path(path):
    p = _b(path)
    if not p or b"\x00" in p:
        raise ValueError("bad xenstore path %r" % (path,))
    limit = ABS_PATH_MAX if p[0:1] == b"/" else REL_PATH_MAX
    if len(p) > limit:
        raise ValueError("xenstore path longer than %d bytes" % limit)
    return p


def encode(mtype, req_id, tx_id, payload):
    if len(payload) > PAYLOAD_MAX:
        raise ValueError("xenstore payload of %d bytes exceeds %d" % (len(payload), PAYLOAD_MAX))
    return struct.pack("<IIII", mtype, req_id, tx_id, len(payload)) + payload


class Watch:
    """Events for one registered watch: `await w.get()` -> the path that changed."""

    def __init__(self, client, path, token):
        self.client = client
        self.path = path
        self.token = token
        self.events = sched.Queue(256)

    async def get(self):
        return await self.events

    async def unwatch(self):
        await self.client.unwatch(self)


class Transaction:
    """Operations inside one xenstore transaction (see Xenstore.transaction)."""

    def __init__(self, client, tx_id):
        self.client = client
        self.tx_id = tx_id

    def read(self, path):
        return self.client.read(path, self.tx_id)

    def write(self, path, value):
        return self.client.write(path, value, self.tx_id)

    def mkdir(self, path):
        return self.client.mkdir(path, self.tx_id)

    def rm(self, path):
        return self.client.rm(path, self.tx_id)

    def directory(self, path):
        return self.client.directory(path, self.tx_id)

    def exists(self, path):
        return self.client.exists(path, self.tx_id)


class Xenstore:
    """Construct inside the running scheduler (it starts the reader task)."""

    def __init__(self, page, port, name="xenstore"):
        self.port = port
        self.name = name
        self.out = ByteRingOut(page, 0, RING_SIZE, REQ_CONS, REQ_PROD, name + " req")
        self.inp = ByteRingIn(page, RING_SIZE, RING_SIZE, RSP_CONS, RSP_PROD, name + " rsp")
        self.obuf = bytearray()     # encoded requests not yet in the ring
        self.ibuf = bytearray()     # reply bytes not yet a whole message
        self.replies = {}           # req_id -> (type, Promise)
        self.watches = {}           # token -> Watch
        self.next_id = 1
        self.next_token = 0
        self.error = None
        self.stats = {"requests": 0, "replies": 0, "events": 0, "dropped_events": 0}
        _xen.evtchn_unmask(port)
        self.task = sched.spawn(self._loop(), name)

    # -- failure -----------------------------------------------------------------------
    def _fail(self, exc):
        if self.error is None:
            self.error = exc
        pend = self.replies
        self.replies = {}
        for k in pend:
            p = pend[k][1]
            if not p.done():
                p.wakeup_exn(ProtocolError(str(self.error)))

    def _check(self):
        if self.error is not None:
            raise ProtocolError("%s unusable: %s" % (self.name, self.error))

    # -- ring pumping (called from the reader task and after queueing a request) --------
    def _pump_out(self):
        if self.obuf:
            n = self.out.write(self.obuf)
            if n:
                self.obuf = self.obuf[n:]   # (MicroPython: no del on bytearray)
                _xen.evtchn_notify(self.port)

    def _drain_in(self):
        data = self.inp.read()
        if data:
            _xen.evtchn_notify(self.port)   # space freed for xenstored
            self.ibuf.extend(data)
        buf = self.ibuf
        pos = 0
        try:
            while len(buf) - pos >= HEADER:
                mtype, req_id, tx_id, ln = struct.unpack_from("<IIII", buf, pos)
                if ln > PAYLOAD_MAX:
                    self.out.fail("reply payload of %d bytes exceeds %d" % (ln, PAYLOAD_MAX))
                end = pos + HEADER + ln
                if len(buf) < end:
                    break
                payload = bytes(buf[pos + HEADER:end])
                pos = end
                self._dispatch(mtype, req_id, payload)
        finally:
            if pos:
                self.ibuf = buf[pos:]

    def _dispatch(self, mtype, req_id, payload):
        if mtype == XS_WATCH_EVENT:
            parts = payload.split(b"\x00")
            if len(parts) < 2:
                self.out.fail("malformed watch event")
            w = self.watches.get(self._str(parts[1]))
            if w is not None:   # an event racing an unwatch is harmless
                self.stats["events"] += 1
                if not w.events.put_nowait(self._str(parts[0])):
                    self.stats["dropped_events"] += 1
            return
        ent = self.replies.pop(req_id, None)
        if ent is None:
            self.out.fail("reply to unknown req_id %d" % req_id)
        sent_type, p = ent
        self.stats["replies"] += 1
        if mtype == XS_ERROR:
            p.wakeup_exn(error_for(self._str(payload.split(b"\x00")[0]), "xenstore"))
        elif mtype != sent_type:
            p.wakeup_exn(ProtocolError("reply type %d to request type %d" % (mtype, sent_type)))
            self.out.fail("reply type %d to a request of type %d" % (mtype, sent_type))
        else:
            p.wakeup(payload)

    def _str(self, b):
        try:
            return b.decode()
        except UnicodeError:
            self.out.fail("undecodable string from xenstored")

    async def _loop(self):
        try:
            while True:
                self.out.space()    # validates xenstored's req_cons on every event
                self._pump_out()
                self._drain_in()
                self._pump_out()
                await sched.event(self.port)
        except RingError as e:
            self._fail(e)
        except Exception as e:      # a bug here must not leave requests hanging
            self._fail(e)
            raise

    # -- requests ------------------------------------------------------------------------
    def _alloc_id(self):
        i = self.next_id
        while i in self.replies or i == 0:
            i = (i + 1) & 0xFFFFFFFF
        self.next_id = (i + 1) & 0xFFFFFFFF
        return i

    async def request(self, mtype, payload, tx_id=0):
        """Send one request; the reply payload (bytes) or the mapped exception."""
        self._check()
        msg_id = self._alloc_id()
        msg = encode(mtype, msg_id, tx_id, payload)
        p = sched.Promise()
        self.replies[msg_id] = (mtype, p)
        self.obuf.extend(msg)
        self.stats["requests"] += 1
        try:
            self._pump_out()
        except RingError as e:
            self._fail(e)
        return await p

    async def read(self, path, tx=0):
        return (await self.request(XS_READ, check_path(path) + b"\x00", tx)).decode()

    async def read_bytes(self, path, tx=0):
        return await self.request(XS_READ, check_path(path) + b"\x00", tx)

    async def exists(self, path, tx=0):
        try:
            await self.request(XS_READ, check_path(path) + b"\x00", tx)
            return True
        except NoEntry:
            return False

    async def write(self, path, value, tx=0):
        await self.request(XS_WRITE, check_path(path) + b"\x00" + _b(value), tx)

    async def mkdir(self, path, tx=0):
        await self.request(XS_MKDIR, check_path(path) + b"\x00", tx)

    async def rm(self, path, tx=0):
        await self.request(XS_RM, check_path(path) + b"\x00", tx)

    async def directory(self, path, tx=0):
        r = await self.request(XS_DIRECTORY, check_path(path) + b"\x00", tx)
        return [s.decode() for s in r.split(b"\x00") if s]

    async def get_domain_path(self, domid):
        r = await self.request(XS_GET_DOMAIN_PATH, str(domid).encode() + b"\x00")
        return r.split(b"\x00")[0].decode()

    async def watch(self, path, token=None):
        """Register a watch; xenstored fires it once at once, then on every change at or
        below `path`. Returns a Watch (its queue exists before the request is sent)."""
        p = check_path(path)
        if token is None:
            self.next_token += 1
            token = "morgana/%d" % self.next_token
        if token in self.watches:
            raise ValueError("watch token %r in use" % token)
        w = Watch(self, path, token)
        self.watches[token] = w
        try:
            await self.request(XS_WATCH, p + b"\x00" + token.encode() + b"\x00")
        except BaseException:
            del self.watches[token]
            raise
        return w

    async def unwatch(self, w):
        if self.watches.get(w.token) is not w:
            raise ValueError("watch %r not registered" % w.token)
        try:
            await self.request(XS_UNWATCH, _b(w.path) + b"\x00" + w.token.encode() + b"\x00")
        finally:
            self.watches.pop(w.token, None)

    async def transaction(self, fn, retries=32):
        """await fn(tx) inside a transaction and commit it; when xenstored says EAGAIN
        (a conflicting change, at commit or on any operation) start again, up to
        `retries` times. An exception from fn aborts the transaction and propagates."""
        for attempt in range(retries + 1):
            r = await self.request(XS_TRANSACTION_START, b"\x00")
            try:
                tx_id = int(r.split(b"\x00")[0])
            except ValueError:
                raise ProtocolError("bad transaction id %r" % (r,))
            if tx_id == 0:
                raise ProtocolError("transaction id 0")
            tx = Transaction(self, tx_id)
            try:
                result = await fn(tx)
            except Again:
                await self._end(tx_id, False)
                continue
            except BaseException:
                await self._end(tx_id, False)
                raise
            try:
                await self.request(XS_TRANSACTION_END, b"T\x00", tx_id)
                return result
            except Again:
                continue
        raise Again("transaction still conflicting after %d retries" % retries)

    async def _end(self, tx_id, commit):
        try:
            await self.request(XS_TRANSACTION_END, (b"T" if commit else b"F") + b"\x00", tx_id)
        except XenstoreError:
            pass    # aborting a transaction xenstored already dropped

    def close(self):
        self.task.cancel()


_client = [None]


def client():
    """The domain's xenstore connection (created on first use, inside the loop)."""
    if _client[0] is None:
        _client[0] = Xenstore(_xen.store_page(), _xen.start_info()["store_evtchn"])
    return _client[0]
