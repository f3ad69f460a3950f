# The stack wired to an in-memory netif: ARP, ping (also fragmented), UDP, ICMP errors,
# malformed input counted, gratuitous ARP.
from morgana import sched
from morgana.net import arp, ethernet, icmp, ipv4, udp
from morgana.net.addr import ip_to_int
from morgana.net.stack import Stack

US_MAC = b"\x02\x00\x00\x00\x00\x02"
PEER_MAC = b"\x02\x00\x00\x00\x00\x01"
US = ip_to_int("10.0.0.2")
PEER = ip_to_int("10.0.0.1")
BCAST = b"\xff" * 6


class FakeNetif:
    def __init__(self):
        self.mac = US_MAC
        self.mtu = 1500
        self.stats = {}
        self.rx = sched.Queue(1000)
        self.tx = sched.Queue(1000)

    async def read(self):
        return await self.rx.get()

    async def write(self, frame):
        self.tx.put_nowait(bytes(frame))


def _eth(dst, etype, payload):
    return ethernet.header(dst, PEER_MAC, etype) + bytes(payload)


def _arp_reply():
    return _eth(US_MAC, ethernet.ETH_ARP, arp.build(arp.REPLY, PEER_MAC, PEER, US_MAC, US))


def _ip_frames(proto, payload, ident=1, src=PEER, dst=US):
    return [_eth(US_MAC, ethernet.ETH_IPV4, p) for p in ipv4.packets(src, dst, proto, payload, ident, 1500)]


async def _next(nif, timeout=1.0):
    async def get():
        return await nif.tx.get()
    f = await sched.with_timeout(timeout, get())
    return ethernet.parse(f)


def _run(body):
    async def main():
        nif = FakeNetif()
        st = Stack(nif, ip="10.0.0.2", netmask="255.255.255.0", gateway="10.0.0.1", tcp=False)
        await st.start()
        try:
            return await body(nif, st)
        finally:
            st.stop()
    return sched.run(main())


def test_gratuitous_arp_then_arp_reply():
    async def body(nif, st):
        d, s, et, pl = await _next(nif)
        op, sha, spa, tha, tpa = arp.parse(pl)
        assert d == BCAST and et == ethernet.ETH_ARP and spa == tpa == US
        nif.rx.put_nowait(_eth(BCAST, ethernet.ETH_ARP,
                               arp.build(arp.REQUEST, PEER_MAC, PEER, bytes(6), US)))
        d, s, et, pl = await _next(nif)
        op, sha, spa, tha, tpa = arp.parse(pl)
        assert (d, op, sha, spa, tha, tpa) == (PEER_MAC, arp.REPLY, US_MAC, US, PEER_MAC, PEER)
        assert st.arp.lookup(PEER, sched.now()) == PEER_MAC
        assert st.stats["arp_replies"] == 1
        nif.rx.put_nowait(_eth(BCAST, ethernet.ETH_ARP,
                               arp.build(arp.REQUEST, PEER_MAC, ip_to_int("10.9.0.1"), bytes(6), US)))
        await sched.sleep(0.01)
        assert st.stats["arp_offlink_sender"] == 1 and st.stats["arp_replies"] == 1
    _run(body)


def test_ping_waits_for_arp_then_replies():
    async def body(nif, st):
        await _next(nif)  # gratuitous ARP
        for f in _ip_frames(1, icmp.echo_request(5, 1, b"abcdefgh")):
            nif.rx.put_nowait(f)
        d, s, et, pl = await _next(nif)
        assert et == ethernet.ETH_ARP and arp.parse(pl)[4] == PEER  # who-has the peer
        nif.rx.put_nowait(_arp_reply())
        d, s, et, pl = await _next(nif)
        assert d == PEER_MAC and et == ethernet.ETH_IPV4
        src, dst, proto, ident, mf, off, ttl, payload = ipv4.parse(pl)
        t, c, msg = icmp.parse(payload)
        assert (src, dst, t) == (US, PEER, icmp.ECHO_REPLY) and bytes(msg[8:]) == b"abcdefgh"
    _run(body)


def test_fragmented_ping_reassembled_and_reply_fragmented():
    async def body(nif, st):
        await _next(nif)
        nif.rx.put_nowait(_arp_reply())
        st.arp.update(PEER, PEER_MAC, sched.now())
        data = bytes(range(256)) * 31 + b"tail"
        frames = _ip_frames(1, icmp.echo_request(9, 2, data), ident=77)
        assert len(frames) == 6
        for f in frames[::-1]:
            nif.rx.put_nowait(f)
        r = ipv4.Reassembler()
        whole = None
        while whole is None:
            d, s, et, pl = await _next(nif)
            src, dst, proto, ident, mf, off, ttl, payload = ipv4.parse(pl)
            assert len(pl) <= 1500
            whole = r.add(ident, off, mf, payload, 0)
        t, c, msg = icmp.parse(whole)
        assert t == icmp.ECHO_REPLY and bytes(msg[8:]) == data
        assert st.stats["frag_reassembled"] == 1
    _run(body)


def test_udp_handler_and_send():
    async def body(nif, st):
        await _next(nif)
        st.arp.update(PEER, PEER_MAC, sched.now())
        got = []

        async def echo(data, ip, port):
            got.append((data, ip, port))
            await st.udp_send(data.upper(), ip, port, src_port=7)

        st.udp_listen(7, echo)
        for f in _ip_frames(17, udp.build(PEER, US, 5555, 7, b"hi there")):
            nif.rx.put_nowait(f)
        d, s, et, pl = await _next(nif)
        src, dst, proto, ident, mf, off, ttl, payload = ipv4.parse(pl)
        sp, dp, data = udp.parse(payload, src, dst)
        assert (sp, dp, bytes(data)) == (7, 5555, b"HI THERE")
        assert got == [(b"hi there", "10.0.0.1", 5555)]
    _run(body)


def test_closed_udp_port_gets_icmp_unreachable():
    async def body(nif, st):
        await _next(nif)
        st.arp.update(PEER, PEER_MAC, sched.now())
        for f in _ip_frames(17, udp.build(PEER, US, 4000, 9, b"x")):
            nif.rx.put_nowait(f)
        d, s, et, pl = await _next(nif)
        t, c, msg = icmp.parse(ipv4.parse(pl)[7])
        assert (t, c) == (icmp.UNREACHABLE, icmp.CODE_PORT_UNREACHABLE)
        assert st.stats["udp_no_port"] == 1
    _run(body)


def test_malformed_input_counted_and_service_continues():
    async def body(nif, st):
        await _next(nif)
        st.arp.update(PEER, PEER_MAC, sched.now())
        good = _ip_frames(1, icmp.echo_request(1, 1, b"ok"))[0]
        bad_csum = bytearray(good)
        bad_csum[14 + 10] ^= 0xFF
        short = good[:14 + 12]
        lie = bytearray(good)
        lie[14 + 2], lie[14 + 3] = 0xFF, 0xFF
        bad_udp = bytearray(_ip_frames(17, udp.build(PEER, US, 1, 7, b"zz"))[0])
        bad_udp[-1] ^= 1
        for f in (b"\x00" * 5, bad_csum, short, lie, bad_udp,
                  _eth(US_MAC, 0x86DD, b"v6"), _eth(US_MAC, ethernet.ETH_ARP, b"\x00" * 10)):
            nif.rx.put_nowait(f)
        nif.rx.put_nowait(good)
        d, s, et, pl = await _next(nif)
        assert icmp.parse(ipv4.parse(pl)[7])[0] == icmp.ECHO_REPLY
        for k in ("eth_truncated", "ipv4_bad_csum", "ipv4_truncated", "udp_bad_csum",
                  "eth_unknown_type", "arp_truncated"):
            assert st.stats.get(k, 0) >= 1, k
        assert st.stats["ipv4_truncated"] == 2
        assert "rx_exception" not in st.stats
    _run(body)


def test_not_for_us_and_no_route():
    async def body(nif, st):
        await _next(nif)
        for f in _ip_frames(1, icmp.echo_request(1, 1), dst=ip_to_int("10.0.0.9")):
            nif.rx.put_nowait(f)
        for src in ("255.255.255.255", "10.0.0.2", "127.0.0.1", "224.0.0.1"):
            for f in _ip_frames(1, icmp.echo_request(1, 1), src=ip_to_int(src)):
                nif.rx.put_nowait(f)
        st.set_address("10.0.0.2", "255.255.255.0", None)
        st.ip_output(17, ip_to_int("8.8.8.8"), b"x")
        await sched.sleep(0.01)
        assert st.stats["ipv4_not_for_us"] == 1 and st.stats["ipv4_no_route"] == 1
        assert st.stats["ipv4_martian"] == 4 and "icmp_echo" not in st.stats
    _run(body)


def test_bad_config_rejected():
    for kw in ({"ip": "10.0.0.300"}, {"ip": "10.0.0.2", "netmask": "255.0.255.0"},
               {"ip": "10.0.0.2", "gateway": "10.0.1.1"}, {}):
        try:
            Stack(FakeNetif(), tcp=False, **kw)
            assert False, kw
        except ValueError:
            pass


def test_udp_to_our_own_address_is_looped_back():
    async def body(nif, st):
        await _next(nif)
        got = []
        st.udp_listen(5000, lambda d, ip, port: got.append((d, ip, port)))
        await st.udp_send(b"me", "10.0.0.2", 5000, src_port=6000)
        await st.udp_send(b"x" * 4000, "10.0.0.2", 5000, src_port=6000)  # > MTU: no frags
        await sched.sleep(0.01)
        assert got == [(b"me", "10.0.0.2", 6000), (b"x" * 4000, "10.0.0.2", 6000)]
        assert st.stats["loopback"] == 2 and nif.tx.empty()
    _run(body)


def test_tcp_to_our_own_address():
    async def main():
        nif = FakeNetif()
        st = Stack(nif, ip="10.0.0.2", netmask="255.255.255.0")
        await st.start()
        if st.tcp is None:
            return None  # the tcp module is not in this tree

        async def echo(flow):
            d = await flow.read()
            await flow.write(d.upper())
            await flow.close()

        st.listen(7000, echo)
        f = await sched.with_timeout(3, st.connect("10.0.0.2", 7000))
        await f.write(b"abc")
        out = b""
        while True:
            d = await sched.with_timeout(3, f.read())
            if not d:
                break
            out += d
        await f.close()
        st.stop()
        return out

    r = sched.run(main())
    assert r in (None, b"ABC")


class PushNetif(FakeNetif):
    """A netif with the optional fast paths (like netfront): frames come in by call, and
    go out without a task switch while `room` lasts."""
    def __init__(self):
        FakeNetif.__init__(self)
        self.receiver = None
        self.room = 1000
        self.nowait = 0

    def set_receiver(self, fn):
        self.receiver = fn

    def write_nowait(self, frame):
        if self.room <= 0:
            return False
        self.room -= 1
        self.nowait += 1
        self.tx.put_nowait(bytes(frame))
        return True


def test_fast_paths_push_in_and_write_now_in_order():
    async def main():
        nif = PushNetif()
        st = Stack(nif, ip="10.0.0.2", netmask="255.255.255.0", gateway="10.0.0.1", tcp=False)
        await st.start()
        pushed = nif.receiver is not None
        nif.tx = sched.Queue(1000)                     # forget the gratuitous ARP
        nif.nowait = 0
        nif.receiver(_arp_reply())
        echo = lambda data, ip, port: st.udp_send_nowait(data, ip, port, 7)  # noqa: E731
        st.udp_listen(7, echo)
        nif.room = 2                                   # then the device is full
        for k in range(4):
            for f in _ip_frames(udp.PROTO, udp.build(PEER, US, 5000, 7, b"ping %d" % k), k + 1):
                nif.receiver(f)                        # answered from inside the call
        now = len(nif.tx)
        nif.room = 1000
        got = []
        for _ in range(4):
            _, _, _, p = await _next(nif)
            src, dst, _, _, _, _, _, payload = ipv4.parse(p)
            got.append(bytes(udp.parse(payload, src, dst)[2]))
        st.stop()
        return pushed, now, nif.nowait, got, nif.receiver
    pushed, now, nowait, got, after = sched.run(main())
    assert pushed and now == 2 and nowait == 2     # two straight out, two queued
    assert got == [b"ping %d" % k for k in range(4)]   # the queued ones after, in order
    assert after is None                           # stop() hands frames back to read()
