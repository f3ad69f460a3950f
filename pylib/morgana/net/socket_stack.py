# The network API of docs/design.md over the host's sockets (target unix-socket): the
# kernel does TCP/IP, we do non-blocking sockets driven by sched.readable/writable.
# Runs on CPython and MicroPython's Unix port (whose sockets have no getsockopt,
# getsockname or shutdown, and give addresses as raw sockaddr bytes).
import socket
from morgana import sched, net

EAGAIN = (11, 35)            # Linux, BSD
EINPROGRESS = (115, 36)
EISCONN = (106, 56)
ECONNRESET = 104
_READ = 16384
_BACKLOG = 128


def _sockaddr(ip, port):
    return socket.getaddrinfo(ip, port)[0][-1]


def peer_of(addr):
    """(ip_str, port) of a socket address: CPython's tuple or MicroPython's sockaddr."""
    if isinstance(addr, tuple):
        return addr[0], addr[1]
    b = bytes(addr)
    if len(b) < 8:
        return "0.0.0.0", 0
    return "%d.%d.%d.%d" % (b[4], b[5], b[6], b[7]), (b[2] << 8) | b[3]


def _check_ip(ip, what):
    parts = ip.split(".") if isinstance(ip, str) else ()
    if len(parts) != 4 or not all(p.isdigit() and int(p) < 256 for p in parts):
        raise ValueError("%s: %r is not a dotted IPv4 address" % (what, ip))


def _check_port(port, what):
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError("%s: port %r is not in 0..65535" % (what, port))


class Flow:
    """One TCP connection: read/write/close as on the direct stack."""

    def __init__(self, sock, peer, stats):
        self.s = sock
        self.peer = peer
        self.stats = stats
        self.closed = False

    async def read(self):
        """Next bytes received, b'' at end of stream (or when the peer reset it)."""
        while True:
            if self.closed:
                return b""
            try:
                b = self.s.recv(_READ)
                self.stats["rx_bytes"] += len(b)
                return b
            except OSError as e:
                err = e.args[0] if e.args else 0
                if err == ECONNRESET:
                    self.stats["resets"] += 1
                    return b""
                if err not in EAGAIN:
                    raise
            await sched.readable(self.s)

    async def write(self, data):
        """Send all of data; OSError if the connection is gone."""
        mv = memoryview(data)
        while len(mv):
            if self.closed:
                raise OSError(32, "write on a closed flow")
            try:
                n = self.s.send(mv)
            except OSError as e:
                if not e.args or e.args[0] not in EAGAIN:
                    raise
                n = 0
            if n:
                self.stats["tx_bytes"] += n
                mv = mv[n:]
            else:
                await sched.writable(self.s)

    def send_nowait(self, data):
        """Send what the socket takes now (as the direct stack's flow): bytes taken."""
        if self.closed:
            raise OSError(32, "write on a closed flow")
        try:
            n = self.s.send(data)
        except OSError as e:
            if not e.args or e.args[0] not in EAGAIN:
                raise
            return 0
        n = n or 0
        self.stats["tx_bytes"] += n
        return n

    async def close(self):
        if not self.closed:
            self.closed = True
            self.stats["closed"] += 1
            self.s.close()


class _Listener:
    def __init__(self, stack, sock, port, handler):
        self.stack = stack
        self.s = sock
        self.port = port
        self.handler = handler
        self.task = sched.spawn(self._accept_loop(), name="listen:%d" % port)

    async def _accept_loop(self):
        st = self.stack.stats
        while True:
            await sched.readable(self.s)
            try:
                c, addr = self.s.accept()
            except OSError as e:
                if e.args and e.args[0] in EAGAIN:
                    continue
                st["accept_errors"] += 1   # e.g. EMFILE: back off instead of spinning
                await sched.sleep(0.1)
                continue
            c.setblocking(False)
            st["accepted"] += 1
            flow = Flow(c, peer_of(addr), st)
            sched.spawn(self._serve(flow), name="flow")

    async def _serve(self, flow):
        try:
            await self.handler(flow)
        finally:
            await flow.close()

    def close(self):
        self.task.cancel()
        self.s.close()


class _UdpPort:
    def __init__(self, stack, sock, port, handler):
        self.stack = stack
        self.s = sock
        self.port = port
        self.handler = handler
        self.task = None
        if handler is not None:
            self.task = sched.spawn(self._rx_loop(), name="udp:%d" % port)

    async def _rx_loop(self):
        st = self.stack.stats
        while True:
            await sched.readable(self.s)
            try:
                data, addr = self.s.recvfrom(65536)
            except OSError as e:
                if e.args and e.args[0] in EAGAIN:
                    continue
                st["udp_errors"] += 1      # e.g. ICMP port unreachable reported late
                continue
            st["udp_rx"] += 1
            ip, port = peer_of(addr)
            try:
                r = self.handler(data, ip, port)
                if r is not None and hasattr(r, "send"):
                    await r
            except Exception as e:
                st["udp_handler_errors"] += 1
                sched._default_hook(self.task, e)

    def close(self):
        if self.task is not None:
            self.task.cancel()
        self.s.close()


class Stack:
    """listen/connect/udp_listen/udp_send over host sockets bound to `ip`."""

    def __init__(self, ip="0.0.0.0", backlog=_BACKLOG):
        _check_ip(ip, "socket stack")
        self.ip = ip
        self.backlog = backlog
        self.listeners = {}
        self.udp = {}
        self._eph = None
        self.stats = {"accepted": 0, "accept_errors": 0, "connects": 0, "closed": 0,
                      "rx_bytes": 0, "tx_bytes": 0, "resets": 0, "udp_rx": 0, "udp_tx": 0,
                      "udp_errors": 0, "udp_handler_errors": 0}

    async def start(self, timeout=None):
        return self                     # the host's network is already up

    def listen(self, port, handler, backlog=None):
        """Accept TCP connections on port; each runs `await handler(flow)` as a task.
        backlog goes to listen(2) (None: the stack's, 128)."""
        _check_port(port, "listen")
        if port in self.listeners:
            raise ValueError("listen: port %d already has a handler" % port)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(_sockaddr(self.ip, port))
            s.listen(backlog or self.backlog)
            s.setblocking(False)
        except OSError as e:
            s.close()
            raise OSError(e.args[0] if e.args else 0,
                          "listen on %s:%d failed: %r" % (self.ip, port, e))
        self.listeners[port] = _Listener(self, s, port, handler)
        return self.listeners[port]

    def memory(self):
        """As the direct stack's, for what this side knows: the kernel holds the buffers
        (budget None), open flows, and MicroPython's heap (heap_used, heap_free)."""
        st = self.stats
        m = {"budget": None, "flows": st["accepted"] + st["connects"] - st["closed"]}
        net.heap_into(m)
        return m

    async def log_stats(self, every, log):
        """Log memory() and the counters that moved, every `every` seconds, forever; on
        MicroPython after a garbage collection, so heap_used is the live heap."""
        await net.log_stats(self, every, log)

    def unlisten(self, port):
        lst = self.listeners.pop(port, None)
        if lst is not None:
            lst.close()

    async def connect(self, ip, port):
        """Flow to ip:port; OSError (e.g. ECONNREFUSED) if it cannot be opened."""
        _check_ip(ip, "connect")
        _check_port(port, "connect")
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        addr = _sockaddr(ip, port)
        try:
            try:
                s.connect(addr)
            except OSError as e:
                if not e.args or e.args[0] not in EINPROGRESS:
                    raise
                await sched.writable(s)
                # a second connect reports the outcome (no getsockopt on MicroPython)
                try:
                    s.connect(addr)
                except OSError as e2:
                    if not e2.args or e2.args[0] not in EISCONN:
                        raise
        except BaseException:
            s.close()
            raise
        self.stats["connects"] += 1
        return Flow(s, (ip, port), self.stats)

    def _udp_socket(self, port):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(_sockaddr(self.ip, port))
            s.setblocking(False)
        except OSError as e:
            s.close()
            raise OSError(e.args[0] if e.args else 0,
                          "udp bind on %s:%d failed: %r" % (self.ip, port, e))
        return s

    def udp_listen(self, port, handler):
        """handler(data, src_ip, src_port) for each datagram to port (may be async)."""
        _check_port(port, "udp_listen")
        old = self.udp.get(port)
        if old is not None and old.handler is not None:
            raise ValueError("udp_listen: port %d already has a handler" % port)
        if old is not None:
            old.close()
        self.udp[port] = _UdpPort(self, self._udp_socket(port), port, handler)
        return self.udp[port]

    def udp_unlisten(self, port):
        u = self.udp.pop(port, None)
        if u is not None:
            u.close()

    async def udp_send(self, data, ip, port, src_port=None):
        _check_ip(ip, "udp_send")
        _check_port(port, "udp_send")
        if src_port:
            _check_port(src_port, "udp_send src_port")
            u = self.udp.get(src_port)
            if u is None:
                u = _UdpPort(self, self._udp_socket(src_port), src_port, None)
                self.udp[src_port] = u
        else:
            u = self._ephemeral_port()
        while True:
            try:
                u.s.sendto(data, _sockaddr(ip, port))
                self.stats["udp_tx"] += 1
                return
            except OSError as e:
                if not e.args or e.args[0] not in EAGAIN:
                    raise
            await sched.writable(u.s)

    def _ephemeral_port(self):
        # one unbound-port socket for all sends without a source port
        u = self._eph
        if u is None:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setblocking(False)
            u = self._eph = _UdpPort(self, s, 0, None)
        return u

    def stop(self):
        for p in list(self.listeners):
            self.unlisten(p)
        for p in list(self.udp):
            self.udp_unlisten(p)
        u = self._eph
        if u is not None:
            u.close()
            self._eph = None
