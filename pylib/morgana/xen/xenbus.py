# The XenBus device handshake (xen/io/xenbus.h) shared by every frontend.
#
# Frontend directory device/<kind>/<id> (relative to our domain's home) holds `backend`
# and `backend-id` (written by the toolstack), `state`, and what the driver publishes
# (ring refs, event channel). Both ends advance their `state` node; we follow the
# backend's through a watch:
#   backend InitWait -> we publish rings, state Initialised (or Connected)
#   backend Connected -> we read its info, state Connected
#   close: state Closing -> backend Closing/Closed -> state Closed -> backend Closed
from morgana import sched
from morgana.xen import xenstore as X

UNKNOWN = 0
INITIALISING = 1
INIT_WAIT = 2
INITIALISED = 3
CONNECTED = 4
CLOSING = 5
CLOSED = 6
RECONFIGURING = 7
RECONFIGURED = 8
NAMES = ("Unknown", "Initialising", "InitWait", "Initialised", "Connected", "Closing",
         "Closed", "Reconfiguring", "Reconfigured")
DOMID_MAX = 0x7FEF      # DOMID_FIRST_RESERVED - 1


class XenbusError(Exception):
    pass


def parse_int(s, what, lo=0, hi=0xFFFFFFFFFFFFFFFF):
    """A decimal xenstore value in [lo, hi], else XenbusError naming `what`."""
    try:
        v = int(s)
    except ValueError:
        raise XenbusError("%s: not a number: %r" % (what, s))
    if v < lo or v > hi:
        raise XenbusError("%s: %d out of range [%d, %d]" % (what, v, lo, hi))
    return v


def state_name(s):
    return NAMES[s] if 0 <= s < len(NAMES) else "state %d" % s


async def devices(xs, kind):
    """Device ids present under device/<kind> (sorted numerically)."""
    try:
        ids = await xs.directory("device/" + kind)
    except X.NoEntry:
        return []
    out = []
    for i in ids:
        try:
            out.append(int(i))
        except ValueError:
            pass
    out.sort()
    return out


class Frontend:
    def __init__(self, xs, kind, devid):
        self.xs = xs
        self.kind = kind
        self.devid = devid
        self.path = "device/%s/%d" % (kind, devid)
        self.backend = None
        self.backend_id = None
        self.state = None

    async def probe(self):
        """Read and check where our backend lives."""
        xs = self.xs
        try:
            be = await xs.read(self.path + "/backend")
            bid = await xs.read(self.path + "/backend-id")
        except X.NoEntry:
            raise XenbusError("%s: no backend configured" % self.path)
        if not be.startswith("/") or len(be) > X.ABS_PATH_MAX:
            raise XenbusError("%s: bad backend path %r" % (self.path, be))
        self.backend = be
        self.backend_id = parse_int(bid, self.path + "/backend-id", 0, DOMID_MAX)
        return be

    async def read(self, key, default=None):
        """Our own node `key` (str), or default."""
        try:
            return await self.xs.read(self.path + "/" + key)
        except X.NoEntry:
            return default

    async def backend_read(self, key, default=None):
        try:
            return await self.xs.read(self.backend + "/" + key)
        except X.NoEntry:
            return default

    async def backend_int(self, key, default=None, lo=0, hi=0xFFFFFFFFFFFFFFFF):
        v = await self.backend_read(key)
        if v is None:
            if default is None:
                raise XenbusError("%s/%s missing" % (self.backend, key))
            return default
        return parse_int(v, self.backend + "/" + key, lo, hi)

    async def backend_state(self):
        v = await self.backend_read("state")
        if v is None:
            return UNKNOWN
        return parse_int(v, self.backend + "/state", 0, RECONFIGURED)

    async def set_state(self, s, tx=None):
        await (tx or self.xs).write(self.path + "/state", str(s))
        self.state = s

    async def wait_backend(self, wanted, timeout, fatal=(CLOSING, CLOSED)):
        """Wait until the backend's state is in `wanted`; a state in `fatal` (the
        backend gave up) or the timeout raise XenbusError."""
        w = await self.xs.watch(self.backend + "/state")
        try:
            deadline = sched.now() + timeout
            while True:
                s = await self.backend_state()
                if s in wanted:
                    return s
                if s in fatal:
                    raise XenbusError("%s: backend went %s" % (self.path, state_name(s)))
                left = deadline - sched.now()
                if left < 0.000001:     # float rounding: a zero-length wait never blocks
                    raise XenbusError("%s: backend stuck in %s (waiting for %s)"
                                      % (self.path, state_name(s),
                                         "/".join([state_name(x) for x in wanted])))
                try:
                    await sched.with_timeout(left, w.get())
                except sched.Timeout:
                    pass
        finally:
            try:
                await w.unwatch()
            except X.XenstoreError:
                pass

    async def connect(self, publish, announce=INITIALISED, timeout=10.0):
        """The frontend half of the handshake. `await publish(tx)` writes the driver's
        keys (ring refs, event channel, features) in a transaction that also sets our
        state to `announce` (netfront uses Connected, blkfront Initialised). Returns once
        the backend is Connected and so are we."""
        if self.backend is None:
            await self.probe()
        await self.wait_backend((INIT_WAIT, CONNECTED), timeout)
        path = self.path

        async def body(tx):
            await publish(tx)
            await tx.write(path + "/state", str(announce))
        await self.xs.transaction(body)
        self.state = announce
        await self.wait_backend((CONNECTED,), timeout)
        if announce != CONNECTED:
            await self.set_state(CONNECTED)

    async def close(self, timeout=5.0):
        """Clean close: Closing, wait for the backend to let go, Closed. A backend that
        does not answer in time is logged as gone; only then may rings be freed (grants
        it still maps stay parked by gnttab.release)."""
        ok = True
        try:
            await self.set_state(CLOSING)
            await self.wait_backend((CLOSING, CLOSED, UNKNOWN), timeout, fatal=())
            await self.set_state(CLOSED)
            await self.wait_backend((CLOSED, UNKNOWN, INIT_WAIT), timeout, fatal=())
        except XenbusError as e:
            print("%s: close: %s" % (self.path, e))
            ok = False
        return ok
