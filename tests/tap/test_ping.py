# Linux pings our stack over TAP: every echo (plain and fragmented) gets its reply.
import netns


def test_ping_100(ns, impl):
    st = netns.OurStack(ns, impl, ["--ip", "10.0.0.2/24", "--gw", "10.0.0.1"])
    sent, got = netns.ping(ns, st.ip, 100)
    assert (sent, got) == (100, 100)
    s = st.stats()
    assert s["icmp_echo"] >= 100
    assert st.alive()


def test_ping_8000_fragmented(ns, impl):
    st = netns.OurStack(ns, impl, ["--ip", "10.0.0.2/24"])
    sent, got = netns.ping(ns, st.ip, 50, size=8000, interval="0.02")
    assert (sent, got) == (50, 50)
    s = st.stats()
    assert s["frag_reassembled"] >= 50 and s["frag_rx"] >= 300
    assert "rx_exception" not in s


def test_udp_echo_and_port_unreachable(ns, impl):
    st = netns.OurStack(ns, impl, ["--ip", "10.0.0.2/24"])
    code = (
        "import socket\n"
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout(2)\n"
        "s.sendto(b'x'*3000,('%s',7));d,a=s.recvfrom(9000);assert d==b'x'*3000,len(d)\n"
        "c=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);c.settimeout(2)\n"
        "c.connect(('%s',4444));c.send(b'hi')\n"
        "try:\n  c.recv(10);print('no error')\n"
        "except ConnectionRefusedError:\n  print('refused')\n" % (st.ip, st.ip))
    out = ns.run("python3", "-c", code, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "refused"
    s = st.stats()
    assert s["udp_no_port"] == 1 and s["icmp_unreach_sent"] == 1
