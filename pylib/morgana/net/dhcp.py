# DHCP client (RFC 2131/2132): message codec (pure) and the client state machine
# (DISCOVER -> OFFER -> REQUEST -> ACK, renewal at T1, rebinding at T2, static fallback).
import struct
from morgana import entropy, sched
from morgana.net import Drop
from morgana.net.addr import int_to_ip

CLIENT_PORT = 68
SERVER_PORT = 67
COOKIE = b"\x63\x82\x53\x63"
FIXED_LEN = 236
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE = 1, 2, 3, 4, 5, 6, 7
OPT_PAD, OPT_MASK, OPT_ROUTER, OPT_DNS, OPT_REQ_IP, OPT_LEASE = 0, 1, 3, 6, 50, 51
OPT_TYPE, OPT_SERVER, OPT_PARAMS, OPT_T1, OPT_T2, OPT_END = 53, 54, 55, 58, 59, 255


def build(msg_type, xid, mac, ciaddr=0, requested=0, server=0, secs=0):
    """A BOOTREQUEST with the broadcast flag (we may have no address to receive on)."""
    head = struct.pack(">BBBBIHHIIII", 1, 1, 6, 0, xid, secs, 0x8000, ciaddr, 0, 0, 0)
    opts = bytearray(COOKIE)
    opts += bytes([OPT_TYPE, 1, msg_type])
    if requested:
        opts += bytes([OPT_REQ_IP, 4]) + requested.to_bytes(4, "big")
    if server:
        opts += bytes([OPT_SERVER, 4]) + server.to_bytes(4, "big")
    opts += bytes([OPT_PARAMS, 5, OPT_MASK, OPT_ROUTER, OPT_DNS, OPT_LEASE, OPT_T1])
    opts.append(OPT_END)
    return head + mac + bytes(10 + 64 + 128) + opts


def parse(buf):
    """-> dict(op, xid, yiaddr, siaddr, chaddr, options={code: bytes}). Drop on lies."""
    if len(buf) < FIXED_LEN + 4:
        raise Drop("dhcp_truncated")
    mv = memoryview(buf)
    op, htype, hlen, hops, xid = struct.unpack_from(">BBBBI", mv, 0)
    ciaddr, yiaddr, siaddr, giaddr = struct.unpack_from(">IIII", mv, 12)
    if bytes(mv[FIXED_LEN:FIXED_LEN + 4]) != COOKIE:
        raise Drop("dhcp_bad_cookie")
    if htype != 1 or hlen != 6:
        raise Drop("dhcp_bad_hw")
    opts = {}
    i = FIXED_LEN + 4
    n = len(mv)
    while i < n:
        code = mv[i]
        if code == OPT_PAD:
            i += 1
            continue
        if code == OPT_END:
            break
        if i + 1 >= n or i + 2 + mv[i + 1] > n:
            raise Drop("dhcp_bad_option")
        ln = mv[i + 1]
        # a repeated option is concatenated (RFC 3396)
        opts[code] = opts.get(code, b"") + bytes(mv[i + 2:i + 2 + ln])
        i += 2 + ln
    return {"op": op, "xid": xid, "yiaddr": yiaddr, "siaddr": siaddr,
            "chaddr": bytes(mv[28:34]), "options": opts}


def _u32(opts, code, default=0):
    v = opts.get(code)
    if v is None or len(v) < 4:
        return default
    return int.from_bytes(v[0:4], "big")


def lease_info(msg):
    """Lease fields from a parsed OFFER/ACK, with RFC defaults for T1/T2."""
    o = msg["options"]
    t = o.get(OPT_TYPE)
    lease = _u32(o, OPT_LEASE, 3600)
    return {
        "type": t[0] if t else 0,
        "ip": msg["yiaddr"],
        "mask": _u32(o, OPT_MASK, 0xFFFFFF00),
        "router": _u32(o, OPT_ROUTER, 0),
        "server": _u32(o, OPT_SERVER, msg["siaddr"]),
        "lease": lease,
        "t1": _u32(o, OPT_T1, lease // 2),
        "t2": _u32(o, OPT_T2, lease * 7 // 8),
        "dns": [int.from_bytes(o[OPT_DNS][i:i + 4], "big")
                for i in range(0, len(o.get(OPT_DNS, b"")) // 4 * 4, 4)],
    }


class DhcpClient:
    """Runs as a task beside the stack. `fallback` = (ip, mask, gateway) is configured
    when no lease arrives within `fallback_after` seconds; the client keeps trying."""

    def __init__(self, stack, fallback=None, fallback_after=8.0, retry=1.0):
        self.stack = stack
        self.fallback = fallback
        self.fallback_after = fallback_after
        self.retry = retry
        self.state = "init"
        self.lease = None
        self.rx = sched.Queue(16)
        self._xid = int.from_bytes(entropy.urandom(4), "big")
        stack.udp_listen(CLIENT_PORT, self._on_udp)

    def _on_udp(self, data, ip, port):
        if port != SERVER_PORT:
            return
        try:
            m = parse(data)
        except Drop as e:
            self.stack._count(e.reason)
            return
        if m["op"] != 2 or m["xid"] != self._xid or m["chaddr"] != self.stack.mac:
            self.stack._count("dhcp_not_ours")
            return
        self.rx.put_nowait(m)

    def _send(self, msg_type, ciaddr=0, requested=0, server=0, dst=0xFFFFFFFF):
        st = self.stack
        st.udp_output(ciaddr, dst, CLIENT_PORT, SERVER_PORT,
                      build(msg_type, self._xid, st.mac, ciaddr, requested, server))

    async def _reply(self, want, until):
        """The next reply of a type in `want` before time `until`, else None."""
        while True:
            left = until - sched.now()
            if left <= 0:
                return None
            try:
                m = await sched.with_timeout(left, _get(self.rx))
            except sched.Timeout:
                return None
            info = lease_info(m)
            if info["type"] in want:
                return info

    async def _exchange(self, msg_type, want, deadline, **kw):
        # retransmit with exponential backoff (capped) until a wanted reply or deadline
        wait = self.retry
        while sched.now() < deadline:
            self._send(msg_type, **kw)
            r = await self._reply(want, min(deadline, sched.now() + wait))
            if r is not None:
                return r
            wait = min(wait * 2, 16.0)
        return None

    async def acquire(self, timeout):
        """DISCOVER/OFFER/REQUEST/ACK; the ACKed lease info, or None on timeout/NAK."""
        deadline = sched.now() + timeout
        self._xid = (self._xid + 1) & 0xFFFFFFFF
        self.state = "selecting"
        offer = await self._exchange(DISCOVER, (OFFER,), deadline)
        if offer is None:
            return None
        self.state = "requesting"
        ack = await self._exchange(REQUEST, (ACK, NAK), deadline,
                                   requested=offer["ip"], server=offer["server"])
        if ack is None or ack["type"] == NAK or not ack["ip"]:
            return None
        return ack

    def _bind(self, info):
        self.lease = info
        self.lease["start"] = sched.now()
        self.state = "bound"
        self.stack._count("dhcp_bound")
        gw = int_to_ip(info["router"]) if info["router"] else None
        try:
            self.stack.set_address(int_to_ip(info["ip"]), int_to_ip(info["mask"]), gw)
        except ValueError:
            # a lease with a bad mask or an off-link router: take the address alone
            self.stack._count("dhcp_bad_lease")
            self.stack.set_address(int_to_ip(info["ip"]), "255.255.255.0", None)

    async def run(self):
        first = True
        while True:
            info = await self.acquire(self.fallback_after if first else 60.0)
            if info is None:
                if first and self.fallback and not self.stack.ip:
                    self.state = "fallback"
                    self.stack._count("dhcp_fallback")
                    self.stack.set_address(*self.fallback)
                first = False
                await sched.sleep(self.retry * 4)  # a NAKing server must not spin us
                continue
            first = False
            self._bind(info)
            if not await self._keep(info):
                self.stack._count("dhcp_lease_lost")
                self.stack.set_address(None, None)
                self.lease = None

    async def _keep(self, info):
        """Renew at T1 (unicast to the server), rebind at T2 (broadcast). False when the
        lease ran out or the server said NAK."""
        start = info["start"]
        t1, t2, end = start + info["t1"], start + info["t2"], start + info["lease"]
        while True:
            await sched.sleep(max(0.0, t1 - sched.now()))
            self.state = "renewing"
            r = await self._exchange(REQUEST, (ACK, NAK), t2, ciaddr=info["ip"],
                                     dst=info["server"])
            if r is None:
                self.state = "rebinding"
                r = await self._exchange(REQUEST, (ACK, NAK), end, ciaddr=info["ip"])
            if r is None or r["type"] == NAK:
                return False
            self.stack._count("dhcp_renewed")
            r["start"] = sched.now()
            if r["ip"] != info["ip"]:
                return False
            self.lease = info = r
            self.state = "bound"
            start = r["start"]
            t1, t2, end = start + r["t1"], start + r["t2"], start + r["lease"]


async def _get(q):
    return await q.get()
