# Linux TAP netif (the unix-tap target): frames in and out of /dev/net/tun.
#   t = Tap('tap0')   attaches to an existing TAP device (created by `ip tuntap add`)
# netif API (docs/design.md): .mac, .mtu, await read() -> frame, await write(frame), .stats
# CPython uses os + fcntl.ioctl; MicroPython's Unix port has neither, so it calls libc
# through the `ffi` module. The fd is non-blocking; waiting is sched.readable(fd).
import struct
from morgana import sched

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
O_RDWR = 0o2
O_NONBLOCK = 0o4000
IFREQ_LEN = 40
FRAME_MAX = 1514 + 4  # room for one MTU-sized frame (and a VLAN tag we will drop)


def _ifreq(name):
    n = name.encode() if isinstance(name, str) else bytes(name)
    if not n or len(n) > 15:
        raise ValueError("bad interface name %r" % (name,))
    return bytearray(n + bytes(16 - len(n)) + struct.pack("<H", IFF_TAP | IFF_NO_PI)
                     + bytes(IFREQ_LEN - 18))


class _PosixIO:
    # CPython: os.read/os.write on the fd.
    def __init__(self, name):
        import os
        import fcntl
        self.os = os
        self.fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        try:
            fcntl.ioctl(self.fd, TUNSETIFF, bytes(_ifreq(name)))
        except OSError:
            os.close(self.fd)
            raise

    def read(self):
        try:
            return self.os.read(self.fd, FRAME_MAX)
        except BlockingIOError:
            return None

    def write(self, frame):
        try:
            return self.os.write(self.fd, frame)
        except BlockingIOError:
            return -1

    def close(self):
        self.os.close(self.fd)


class _FfiIO:
    # MicroPython Unix port: libc open/ioctl/read/write through ffi.
    def __init__(self, name):
        import ffi
        libc = ffi.open("libc.so.6")
        self._open = libc.func("i", "open", "si")
        self._ioctl = libc.func("i", "ioctl", "iLp")
        self._read = libc.func("l", "read", "ipL")
        self._write = libc.func("l", "write", "ipL")
        self._close = libc.func("i", "close", "i")
        fd = self._open("/dev/net/tun", O_RDWR | O_NONBLOCK)
        if fd < 0:
            raise OSError("cannot open /dev/net/tun (need root and the tun module)")
        if self._ioctl(fd, TUNSETIFF, _ifreq(name)) < 0:
            self._close(fd)
            raise OSError("TUNSETIFF %s failed (device missing or busy?)" % name)
        self.fd = fd

    def read(self):
        buf = bytearray(FRAME_MAX)
        n = self._read(self.fd, buf, FRAME_MAX)
        if n <= 0:
            return None  # EAGAIN (spurious wakeup) or nothing
        return memoryview(buf)[:n]

    def write(self, frame):
        return self._write(self.fd, frame, len(frame))

    def close(self):
        self._close(self.fd)


class Tap:
    def __init__(self, name, mac=None, mtu=1500):
        try:
            import fcntl  # noqa: F401  (present on CPython only)
            self._io = _PosixIO(name)
        except ImportError:
            self._io = _FfiIO(name)
        self.name = name
        self.fd = self._io.fd
        self.mtu = mtu
        self.mac = mac if mac is not None else _random_mac()
        self.stats = {"rx_frames": 0, "tx_frames": 0, "tx_errors": 0, "rx_bytes": 0,
                      "tx_bytes": 0}

    async def read(self):
        while True:
            f = self._io.read()
            if f is not None:
                self.stats["rx_frames"] += 1
                self.stats["rx_bytes"] += len(f)
                return f
            await sched.readable(self.fd)

    def write_nowait(self, frame):
        """Hand the frame to the device if it takes it now; False: use write()."""
        n = self._io.write(frame)
        if n < 0:
            return False
        self.stats["tx_frames"] += 1
        self.stats["tx_bytes"] += n
        return True

    async def write(self, frame):
        n = self._io.write(frame)
        if n < 0:
            # tun's queue is full: wait once for room, then give up (IP is best effort)
            await sched.writable(self.fd)
            n = self._io.write(frame)
        if n < 0:
            self.stats["tx_errors"] += 1
        else:
            self.stats["tx_frames"] += 1
            self.stats["tx_bytes"] += n

    def close(self):
        self._io.close()


def _random_mac():
    import os
    b = bytearray(os.urandom(6))
    b[0] = (b[0] & 0xFC) | 0x02  # locally administered, unicast
    return bytes(b)
