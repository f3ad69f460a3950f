# Xen platform for the scheduler, over the kernel's `_xen` primitives: the pvclock for
# time, SCHEDOP_block (with a one-shot timer) to sleep the vCPU until the next deadline
# or event, the PV console for output, SCHEDOP_shutdown to stop.
import _xen

SHUTDOWN_POWEROFF = 0
SHUTDOWN_REBOOT = 1
SHUTDOWN_CRASH = 3

# With no deadline, wake up now and then anyway: costs nothing and bounds the damage of a
# lost event (a backend that notified before we bound its port).
_IDLE_NS = 10 * 1000000000


def now_ns():
    return _xen.time_ns()


def wall_ns():
    return _xen.wall_ns()


def wait(deadline_ns, rfds=(), wfds=()):
    """Block the domain until deadline_ns or an event. Returns ((), (), fired ports)."""
    if rfds or wfds:
        raise ValueError("plat_xen.wait: there are no file descriptors on Xen")
    # console output queued by the kernel goes on to xenconsoled from here, so a log line
    # never stalls the tasks (the kernel batches the notifications)
    again = _xen.console_pump()
    ports = _xen.pending()
    if ports:
        return (), (), ports
    now = _xen.time_ns()
    if deadline_ns is None:
        deadline_ns = now + _IDLE_NS
    if again and again < deadline_ns:
        deadline_ns = again
    if deadline_ns > now:
        # block returns early when any event is pending, so nothing is missed between
        # the pending() above and here
        _xen.block(deadline_ns)
        ports = _xen.pending()
    return (), (), ports


def write_console(b):
    _xen.console_write(b)


def exit(code=0):
    _xen.shutdown(SHUTDOWN_POWEROFF if code == 0 else SHUTDOWN_CRASH)


def reboot():
    """SCHEDOP_shutdown(reboot): the toolstack's on_reboot decides (xl: restart)."""
    _xen.shutdown(SHUTDOWN_REBOOT)


def control():
    """The task that answers the toolstack's control/shutdown requests (morgana.boot
    spawns it first thing)."""
    from morgana.xen import control
    return control.run()
