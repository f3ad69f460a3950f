# dnsmasq on the Linux side of the TAP hands us an address; we answer ping on it.
# Without a server the static fallback is used.
import os
import netns


def _dnsmasq(ns):
    lease = "/tmp/%s.leases" % ns.name
    return ns.popen(["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-resolv",
                     "--no-hosts", "--port=0", "--interface=tap0", "--bind-interfaces",
                     "--dhcp-range=10.0.0.100,10.0.0.150,255.255.255.0,120",
                     "--dhcp-option=3,10.0.0.1", "--dhcp-leasefile=" + lease,
                     "--pid-file=/tmp/%s.pid" % ns.name],
                    stdout=open(os.devnull, "w"), stderr=open("/tmp/%s.dnsmasq" % ns.name, "w"))


def test_dhcp_from_dnsmasq_then_ping(ns, impl):
    _dnsmasq(ns)
    st = netns.OurStack(ns, impl, ["--dhcp", "--mac", "02:00:00:00:00:42"], ready_timeout=30)
    a = [int(x) for x in st.ip.split(".")]
    assert a[:3] == [10, 0, 0] and 100 <= a[3] <= 150, st.ip
    sent, got = netns.ping(ns, st.ip, 10)
    assert got == 10
    s = st.stats()
    assert s["dhcp_bound"] == 1 and s["_ip"] == st.ip
    with open("/tmp/%s.leases" % ns.name) as f:
        leases = f.read()
    assert "02:00:00:00:00:42" in leases and st.ip in leases


def test_dhcp_static_fallback(ns, impl):
    st = netns.OurStack(ns, impl, ["--dhcp", "--fallback", "10.0.0.77/24"], ready_timeout=30)
    assert st.ip == "10.0.0.77"
    sent, got = netns.ping(ns, st.ip, 5)
    assert got == 5
    assert st.stats()["dhcp_fallback"] == 1


def test_dhcp_renews_at_t1(ns):
    # dnsmasq's shortest lease is 2 minutes: T1 comes after 60 s (MicroPython only, to
    # keep the suite short; the renewal logic itself is unit-tested on both)
    _dnsmasq(ns)
    st = netns.OurStack(ns, "micropython", ["--dhcp"], ready_timeout=30)
    import time
    end = time.time() + 75
    s = {}
    while time.time() < end:
        time.sleep(5)
        s = st.stats()
        if s.get("dhcp_renewed"):
            break
    assert s.get("dhcp_renewed") == 1 and s["_ip"] == st.ip, s
    assert netns.ping(ns, st.ip, 3)[1] == 3
