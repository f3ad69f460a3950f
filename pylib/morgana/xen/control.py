# The toolstack's PV shutdown protocol (Xen's docs/misc/xenstore-paths: ~/control): the
# toolstack (`xl shutdown`, `xl reboot`, `xl save`) writes a command to control/shutdown
# in the guest's domain directory; the guest acknowledges a command it will carry out by
# writing "" back (read and acknowledged in one transaction, as Linux does), then does it.
# We advertise control/feature-poweroff and control/feature-reboot.
#   poweroff, halt -> lifecycle.request(POWEROFF)      SCHEDOP_shutdown(poweroff)
#   reboot         -> lifecycle.request(REBOOT)        SCHEDOP_shutdown(reboot)
#   suspend        -> refused: left unacknowledged (no feature-suspend either), with a
#                     console line; the toolstack gives up on its own (libxl: "guest
#                     didn't acknowledge suspend, cancelling request" after 60 s).
#   anything else  -> ignored the same way (Linux: "Ignoring shutdown request").
from morgana import sched, logs, lifecycle
from morgana.xen import xenstore

NODE = "control/shutdown"
FEATURES = ("control/feature-poweroff", "control/feature-reboot")
ACTIONS = {"poweroff": lifecycle.POWEROFF, "halt": lifecycle.POWEROFF,
           "reboot": lifecycle.REBOOT}

log = logs.Src("control")


async def advertise(xs):
    for path in FEATURES:
        try:
            await xs.write(path, "1")
        except xenstore.XenstoreError as e:     # a toolstack that made no such node
            log.warning("cannot write %s: %s", path, e)


async def take(xs):
    """The pending command ("" or None if there is none), acknowledged if we act on it."""
    async def tx(t):
        try:
            cmd = await t.read(NODE)
        except xenstore.NoEntry:
            return None
        if cmd in ACTIONS:
            await t.write(NODE, "")
        return cmd
    return await xs.transaction(tx)


def act(cmd, request=None):
    """What a command read from control/shutdown does; True if it was acted on."""
    if not cmd:
        return False
    why = ACTIONS.get(cmd)
    if why is None:
        if cmd == "suspend":
            log.warning("suspend requested: not supported yet (no save/restore/migrate); "
                        "refused, the domain keeps running")
        else:
            log.warning("ignoring unknown shutdown request %r", cmd)
        return False
    if lifecycle.stopping():
        log.info("%s requested: already shutting down (%s)", cmd, lifecycle.reason())
        return False
    log.info("%s requested by the toolstack", cmd)
    (request or lifecycle.request)(why)
    return True


async def run(xs=None, request=None):
    """Watch control/shutdown until cancelled. Never fails the unikernel: without a
    xenstore (dom0less) or on a xenstore error it logs and returns."""
    try:
        if xs is None:
            import _xen
            if not _xen.start_info().get("store_evtchn"):
                return                  # no xenstore: nobody can ask
            xs = xenstore.client()
        await advertise(xs)
        w = await xs.watch(NODE)        # fires once at once: a request made before now
        while True:
            await w.get()
            act(await take(xs), request)
    except sched.Cancelled:
        raise
    except Exception as e:
        log.warning("not watching %s: %s: %s", NODE, type(e).__name__, e)
