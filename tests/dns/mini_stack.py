# A tiny host-socket implementation of the network API of docs/design.md (udp_listen,
# udp_send, listen, flows) on morgana.sched, so dig can drive the real app path (app ->
# server -> scheduler) on CPython and MicroPython. Call udp_listen/listen inside sched.run.
import socket

from morgana import sched


def _peer(addr):
    if isinstance(addr, tuple):
        return addr[0], addr[1]
    # MicroPython: raw sockaddr_in bytes (family, port, address)
    return "%d.%d.%d.%d" % (addr[4], addr[5], addr[6], addr[7]), addr[2] << 8 | addr[3]


class Flow:
    def __init__(self, conn, addr):
        self.conn = conn
        self.peer = _peer(addr)
        self.closed = False

    async def read(self):
        await sched.readable(self.conn)
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
        self.by_port = {}   # port -> udp socket
        self.addrs = {}     # (ip, port) -> raw address from recvfrom (MicroPython)
        self.peers = {}     # raw address -> (ip, port): no string formatting per packet
        self.stats = {"udp_rx": 0, "tcp_accepted": 0}

    def _addr(self, port):
        return socket.getaddrinfo(self.host, port)[0][-1]

    def udp_listen(self, port, handler):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(self._addr(port))
        s.setblocking(False)
        self.by_port[port] = s
        sched.spawn(self._udp_loop(s, handler))

    async def _udp_loop(self, s, handler):
        while True:
            await sched.readable(s)
            for _ in range(64):  # a bounded batch per wakeup
                try:
                    data, addr = s.recvfrom(4096)
                except OSError:
                    break
                self.stats["udp_rx"] += 1
                p = self.peers.get(addr)
                if p is None:
                    if len(self.peers) > 1024:
                        self.peers.clear()
                        self.addrs.clear()
                    p = self.peers[addr] = _peer(addr)
                    self.addrs[p] = addr
                r = handler(data, p[0], p[1])
                if r is not None and hasattr(r, "send"):  # async handler: its own task
                    sched.spawn(r)

    async def udp_send(self, data, ip, port, src_port=None):
        s = self.by_port[src_port]
        addr = self.addrs.get((ip, port))
        try:
            s.sendto(data, addr if addr is not None else (ip, port))
        except OSError:
            pass  # a full socket buffer drops the datagram, like a real link would

    def listen(self, port, handler):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(self._addr(port))
        s.listen(16)
        sched.spawn(self._accept_loop(s, handler))

    async def _accept_loop(self, s, handler):
        while True:
            await sched.readable(s)
            conn, addr = s.accept()
            self.stats["tcp_accepted"] += 1
            sched.spawn(handler(Flow(conn, addr)))
