# The dns unikernel as a Xen PV domU (xen-x86_64) in the Xen 4.17-in-QEMU rig: dom0's
# busybox nslookup asks it over UDP across xenbr0, and dig on the host asks it over TCP
# through QEMU's hostfwd. Slow (kernel build + TCG boot): a few minutes.
import os
import random
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "xen"))
from rig import XenRig, xl_config  # noqa: E402

MORGANA = os.path.join(os.path.dirname(sys.executable), "morgana")
GUEST_IP = "10.0.2.53"



@pytest.fixture(scope="module")
def dns_domu(tmp_path_factory):
    bdir = str(tmp_path_factory.mktemp("mbxen"))
    env = dict(os.environ, MORGANA_BUILD=bdir)
    for args in (["configure", "configs/dns.py", "--target", "xen-x86_64", "DHCP=no",
                  "IP=" + GUEST_IP, "GATEWAY=10.0.2.2"], ["build"]):
        r = subprocess.run([MORGANA] + args, cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr
    port = random.randint(20000, 60000)
    files = {"/guest/dns.xen": os.path.join(bdir, "dns", "dns.xen"),
             "/guest/dns.xl": xl_config("dns", "/guest/dns.xen", memory=32,
                                        vif=["bridge=xenbr0,mac=00:16:3e:00:00:53"]).encode()}
    script = ("xl_create /guest/dns.xl\nwait_console dns 'dns: serving|Traceback' 300\n"
              "show_console dns\n")
    s = XenRig().boot(files=files, script=script, name="test_dns_xen", timeout=600,
                      shell=True, hostfwd=[(port, GUEST_IP, 53)])
    s.port = port
    s.expect(r"@@ console dns end", 420)
    console = s.console("dns") or ""
    if "dns: serving" not in console:
        s.close()
        pytest.fail("the dns domU did not come up; its console:\n" + console)
    yield s
    s.close()


def test_udp_from_dom0_over_xenbr0(dns_domu):
    rc, out = dns_domu.sh("nslookup sip.example.test %s" % GUEST_IP, timeout=120)
    assert rc == 0 and "192.0.2.60" in out, out
    rc, out = dns_domu.sh("nslookup -type=mx example.test %s" % GUEST_IP, timeout=120)
    assert "mail.example.test" in out and "mail2.example.test" in out, out
    rc, out = dns_domu.sh("nslookup nothing.example.test %s" % GUEST_IP, timeout=120)
    assert rc != 0 and "NXDOMAIN" in out, out


def test_tcp_from_the_host_through_hostfwd(dns_domu):
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(dns_domu.port), "+tcp", "+time=20",
                          "+tries=2", "big.example.test", "TXT"],
                         capture_output=True, text=True, timeout=120).stdout
    assert "status: NOERROR" in out and "ANSWER: 1" in out and "flags: qr aa" in out, out
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(dns_domu.port), "+tcp", "+time=20",
                          "+short", "ftp.example.test"],
                         capture_output=True, text=True, timeout=120).stdout
    assert out.split() == ["www.example.test.", "example.test.", "192.0.2.1"], out
