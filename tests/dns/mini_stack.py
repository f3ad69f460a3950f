# A tiny host-socket implementation of the network API of docs/design.md (udp_listen,
# udp_send, listen, flows) with its own poll loop, so the DNS server can be driven by dig
# on CPython and MicroPython before/independently of morgana.sched and socket_stack.
import select
import socket


class _Readable:
    """Awaitable that hands the fd up to the loop, which resumes us when it is readable."""

    def __init__(self, fd):
        self.fd = fd

    def __iter__(self):
        yield self.fd

    __await__ = __iter__


def _peer(addr):
    if isinstance(addr, tuple):
        return addr[0], addr[1]
    # MicroPython: raw sockaddr_in bytes (family, port, address)
    return "%d.%d.%d.%d" % (addr[4], addr[5], addr[6], addr[7]), addr[2] << 8 | addr[3]


class Flow:
    def __init__(self, stack, conn, addr):
        self.stack = stack
        self.conn = conn
        self.fd = conn.fileno()
        self.peer = _peer(addr)
        self.closed = False

    async def read(self):
        await _Readable(self.fd)
        try:
            return self.conn.recv(65536)
        except OSError:
            return b""

    async def write(self, b):
        try:
            self.conn.sendall(b) if hasattr(self.conn, "sendall") else self.conn.write(b)
        except OSError:
            pass

    async def close(self):
        if not self.closed:
            self.closed = True
            self.conn.close()


class MiniStack:
    def __init__(self, host="127.0.0.1"):
        self.host = host
        self.poll = select.poll()
        self.udp = {}       # fd -> (socket, port, handler)
        self.tcp = {}       # fd -> (listening socket, handler)
        self.waiting = {}   # fd -> coroutine blocked on readability
        self.by_port = {}   # port -> udp socket
        self.addrs = {}     # (ip, port) -> raw address from recvfrom (MicroPython)
        self.peers = {}     # raw address -> (ip, port): no string formatting per packet

    def _addr(self, port):
        return socket.getaddrinfo(self.host, port)[0][-1]

    def udp_listen(self, port, handler):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(self._addr(port))
        s.setblocking(False)
        self.udp[s.fileno()] = (s, port, handler)
        self.by_port[port] = s
        self.poll.register(s.fileno(), select.POLLIN)

    async def udp_send(self, data, ip, port, src_port=None):
        s = self.by_port[src_port]
        addr = self.addrs.get((ip, port))
        s.sendto(data, addr if addr is not None else (ip, port))

    def listen(self, port, handler):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(self._addr(port))
        s.listen(16)
        self.tcp[s.fileno()] = (s, handler)
        self.poll.register(s.fileno(), select.POLLIN)

    def _drive(self, coro):
        try:
            fd = coro.send(None)
        except StopIteration:
            return
        self.waiting[fd] = coro
        self.poll.register(fd, select.POLLIN)

    def run(self, until=None):
        """Serve until until() is true (checked about every 200 ms) or forever."""
        while until is None or not until():
            for fd, ev in self.poll.poll(200):
                if not isinstance(fd, int):
                    fd = fd.fileno()
                if fd in self.udp:
                    s, port, handler = self.udp[fd]
                    for _ in range(64):  # a bounded batch per wakeup
                        try:
                            data, addr = s.recvfrom(4096)
                        except OSError:
                            break
                        p = self.peers.get(addr)
                        if p is None:
                            if len(self.peers) > 1024:
                                self.peers.clear()
                                self.addrs.clear()
                            p = self.peers[addr] = _peer(addr)
                            self.addrs[p] = addr
                        ip, sport = p
                        r = handler(data, ip, sport)
                        if r is not None:
                            self._drive(r)
                elif fd in self.tcp:
                    ls, handler = self.tcp[fd]
                    conn, addr = ls.accept()
                    self._drive(handler(Flow(self, conn, addr)))
                elif fd in self.waiting:
                    coro = self.waiting.pop(fd)
                    self.poll.unregister(fd)
                    self._drive(coro)
