# The dns unikernel as a Xen PV domU (xen-x86_64) in the Xen 4.17-in-QEMU rig: dom0's
# busybox nslookup asks it over UDP across xenbr0, and the whole dig matrix of
# tests/dns/dig_matrix.py (the tests test_dig.py runs on host sockets) asks it from the
# host over UDP and TCP through QEMU's port forwards. Slow (kernel build + TCG boot): a
# few minutes.
import os
import sys

import pytest

import dig_matrix
from dig_matrix import IDLE
from dig_matrix import *  # noqa: F401,F403  the matrix's test_* functions, on `server` below

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "xen"))
from rig import XenRig, free_port, morgana_build, xl_config  # noqa: E402

GUEST_IP = "10.0.2.53"
# dig's +time (and the raw UDP queries' wait) here: the answers come through QEMU TCG,
# slirp and dom0's bridge (~50 ms when all is well; this is for a loaded machine)
WAIT = 5


@pytest.fixture(scope="module")
def dns_domu(tmp_path_factory):
    d = morgana_build("configs/dns.py", str(tmp_path_factory.mktemp("mbxen")), "DHCP=no",
                      "IP=" + GUEST_IP, "GATEWAY=10.0.2.2", "TCP_IDLE=%s" % IDLE)
    port = free_port(udp=True)  # both UDP and TCP are forwarded from it
    files = {"/guest/dns.xen": os.path.join(d, "dns.xen"),
             "/guest/dns.xl": xl_config("dns", "/guest/dns.xen", memory=32,
                                        vif=["bridge=xenbr0,mac=00:16:3e:00:00:53"]).encode()}
    script = ("xl_create /guest/dns.xl\nwait_console dns 'dns: serving|Traceback' 300\n"
              "show_console dns\n")
    # a UDP forward makes the rig run QEMU's user network with restrict=off (rig.py says why)
    s = XenRig().boot(files=files, script=script, name="test_dns_xen", timeout=600, shell=True,
                      hostfwd=[(port, GUEST_IP, 53), (port, GUEST_IP, 53, "udp")])
    s.port = port
    s.expect(r"@@ console dns end", 420)
    console = s.console("dns") or ""
    if "dns: serving" not in console:
        s.close()
        pytest.fail("the dns domU did not come up; its console:\n" + console)
    yield s
    s.close()


@pytest.fixture(scope="module")
def server(dns_domu):
    """The port the matrix asks (127.0.0.1, UDP and TCP), with this module's WAIT."""
    unix_wait, dig_matrix.WAIT = dig_matrix.WAIT, WAIT
    yield dns_domu.port
    dig_matrix.WAIT = unix_wait


def test_udp_from_dom0_over_xenbr0(dns_domu):
    rc, out = dns_domu.sh("nslookup sip.example.test %s" % GUEST_IP, timeout=120)
    assert rc == 0 and "192.0.2.60" in out, out
    rc, out = dns_domu.sh("nslookup -type=mx example.test %s" % GUEST_IP, timeout=120)
    assert "mail.example.test" in out and "mail2.example.test" in out, out
    rc, out = dns_domu.sh("nslookup nothing.example.test %s" % GUEST_IP, timeout=120)
    assert rc != 0 and "NXDOMAIN" in out, out
