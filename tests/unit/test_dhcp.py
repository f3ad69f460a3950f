# DHCP: codec, malformed replies, and the client against a scripted server (lease,
# renewal at T1, NAK -> lease dropped).
import struct
from morgana import sched
from morgana.net import Drop, arp, dhcp, ethernet, ipv4, udp
from morgana.net.addr import ip_to_int
from morgana.net.stack import Stack

MAC = b"\x02\x00\x00\x00\x00\x07"
SRV_MAC = b"\x02\x00\x00\x00\x00\x01"
SRV = ip_to_int("10.1.0.1")
GIVE = ip_to_int("10.1.0.42")


def _reply(msg_type, xid, yiaddr, t1=None, lease=4, mac=MAC):
    head = struct.pack(">BBBBIHHIIII", 2, 1, 6, 0, xid, 0, 0, 0, yiaddr, SRV, 0)
    o = bytearray(dhcp.COOKIE)
    o += bytes([53, 1, msg_type, 54, 4]) + SRV.to_bytes(4, "big")
    o += bytes([1, 4, 255, 255, 255, 0, 3, 4]) + SRV.to_bytes(4, "big")
    o += bytes([51, 4]) + lease.to_bytes(4, "big")
    if t1 is not None:
        o += bytes([58, 4]) + t1.to_bytes(4, "big")
    o += bytes([0, 0, 255])
    return head + mac + bytes(202) + o


def _reason(buf):
    try:
        dhcp.parse(buf)
    except Drop as e:
        return e.reason
    return None


def test_request_codec():
    m = dhcp.parse(dhcp.build(dhcp.REQUEST, 0x1234, MAC, requested=GIVE, server=SRV))
    assert m["op"] == 1 and m["xid"] == 0x1234 and m["chaddr"] == MAC
    o = m["options"]
    assert o[53] == bytes([dhcp.REQUEST]) and o[50] == GIVE.to_bytes(4, "big")
    assert o[54] == SRV.to_bytes(4, "big")


def test_lease_info_and_defaults():
    info = dhcp.lease_info(dhcp.parse(_reply(dhcp.ACK, 1, GIVE, lease=1000)))
    assert info["type"] == dhcp.ACK and info["ip"] == GIVE and info["router"] == SRV
    assert info["mask"] == 0xFFFFFF00 and info["server"] == SRV
    assert (info["lease"], info["t1"], info["t2"]) == (1000, 500, 875)


def test_malformed_replies():
    good = _reply(dhcp.OFFER, 1, GIVE)
    assert _reason(good[:200]) == "dhcp_truncated"
    bad = bytearray(good)
    bad[236] = 0
    assert _reason(bad) == "dhcp_bad_cookie"
    # an option whose length runs past the end
    assert _reason(good[:240] + bytes([53, 40, 1])) == "dhcp_bad_option"
    bad = bytearray(good)
    bad[2] = 16
    assert _reason(bad) == "dhcp_bad_hw"


class FakeNetif:
    def __init__(self):
        self.mac = MAC
        self.mtu = 1500
        self.stats = {}
        self.rx = sched.Queue(100)

    async def read(self):
        return await self.rx.get()

    async def write(self, frame):
        d, s, et, pl = ethernet.parse(bytes(frame))
        if et == ethernet.ETH_ARP:
            op, sha, spa, tha, tpa = arp.parse(pl)
            if op == arp.REQUEST and tpa == SRV:
                self.rx.put_nowait(ethernet.header(MAC, SRV_MAC, ethernet.ETH_ARP)
                                   + arp.build(arp.REPLY, SRV_MAC, SRV, MAC, spa))
            return
        if et != ethernet.ETH_IPV4:
            return
        src, dst, proto, ident, mf, off, ttl, p = ipv4.parse(pl)
        if proto != 17:
            return
        sp, dp, data = udp.parse(p, src, dst)
        if dp == 67:
            self.server(src, dst, dhcp.parse(data))

    def send_reply(self, data):
        u = udp.build(SRV, 0xFFFFFFFF, 67, 68, data)
        for p in ipv4.packets(SRV, 0xFFFFFFFF, 17, u, 1, 1500):
            self.rx.put_nowait(ethernet.header(b"\xff" * 6, SRV_MAC, ethernet.ETH_IPV4) + p)


def test_client_gets_lease_and_renews_then_loses_it_on_nak():
    log = []
    nif = FakeNetif()

    def server(src, dst, m):
        t = m["options"][53][0]
        log.append((t, src, dst))
        if t == dhcp.DISCOVER:
            nif.send_reply(_reply(dhcp.OFFER, m["xid"], GIVE))
        elif t == dhcp.REQUEST and len([x for x in log if x[0] == dhcp.REQUEST]) <= 2:
            nif.send_reply(_reply(dhcp.ACK, m["xid"], GIVE, t1=1))
        elif t == dhcp.REQUEST:
            nif.send_reply(_reply(dhcp.NAK, m["xid"], 0))

    nif.server = server

    async def main():
        st = Stack(nif, dhcp=True, tcp=False)
        await st.start(timeout=5)
        got = st.ip
        assert st.gateway == SRV and st.netmask == 0xFFFFFF00
        await sched.sleep(1.3)  # past T1: renewed (unicast, from our address)
        renewed = st.stats.get("dhcp_renewed", 0)
        await sched.sleep(1.2)  # second renewal is NAKed: the address is dropped
        st.stop()
        return got, renewed, st.ip, dict(st.stats)

    got, renewed, after, stats = sched.run(main())
    assert got == GIVE
    assert renewed == 1
    assert [x[0] for x in log[:2]] == [dhcp.DISCOVER, dhcp.REQUEST]
    assert log[0][1] == 0 and log[0][2] == 0xFFFFFFFF
    assert log[2] == (dhcp.REQUEST, GIVE, SRV)  # renewal is unicast to the server
    assert after == 0 and stats["dhcp_lease_lost"] == 1


def test_client_ignores_foreign_xid():
    nif = FakeNetif()
    nif.server = lambda src, dst, m: nif.send_reply(_reply(dhcp.OFFER, m["xid"] ^ 1, GIVE))

    async def main():
        st = Stack(nif, dhcp=True, tcp=False)
        try:
            await st.start(timeout=0.5)
        except sched.Timeout:
            pass
        st.stop()
        return st.ip, st.stats

    ip, stats = sched.run(main())
    assert ip == 0 and stats["dhcp_not_ours"] >= 1
