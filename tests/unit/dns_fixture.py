# Shared helpers for the DNS unit tests (portable: CPython and MicroPython).
from morgana.dns import wire


def raises(exc, fn, *args):
    """-> the exception fn(*args) raised; fails the test if it raised nothing."""
    try:
        fn(*args)
    except exc as e:
        return e
    raise AssertionError("%s not raised by %r%r" % (exc.__name__, fn, args))


def example_zone_path():
    for p in ("configs/zones/example.zone", "../configs/zones/example.zone",
              "../../configs/zones/example.zone"):
        try:
            open(p).close()
            return p
        except OSError:
            pass
    raise AssertionError("configs/zones/example.zone not found from the working directory")


def n(text):
    return wire.name_from_text(text)


def query(name, qtype, id=0x1234, flags=wire.RD, edns=None, do=False, version=0):
    m = wire.Message(id, flags)
    m.question.append((n(name), qtype, wire.IN))
    if edns is not None:
        m.additional.append((wire.ROOT, wire.OPT, edns, (version << 16) | (0x8000 if do else 0), b""))
    return wire.build_message(m)


# ---- network fakes: no scheduler needed, nothing blocks ----

def run_coro(coro):
    """Run a coroutine that never blocks (fakes below complete at once)."""
    try:
        coro.send(None)
    except StopIteration:
        return
    raise AssertionError("coroutine blocked")


class FakeFlow:
    def __init__(self, chunks):
        self.chunks = list(chunks)
        self.out = b""
        self.closed = False

    async def read(self):
        return self.chunks.pop(0) if self.chunks else b""

    async def write(self, b):
        self.out += b

    async def close(self):
        self.closed = True


class FakeStack:
    def __init__(self):
        self.udp = {}
        self.tcp = {}
        self.sent = []

    def udp_listen(self, port, handler):
        self.udp[port] = handler

    def listen(self, port, handler):
        self.tcp[port] = handler

    async def udp_send(self, data, ip, port, src_port=None):
        self.sent.append((data, ip, port, src_port))
