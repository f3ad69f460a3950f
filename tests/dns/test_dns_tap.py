# configs/dns.py on our own TCP/IP stack (target unix-tap) inside a throw-away network
# namespace: dig from the Linux side of the TAP, over UDP and TCP, on both Pythons.
import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "tap"))
import netns  # noqa: E402

MORGANA = os.path.join(os.path.dirname(sys.executable), "morgana")
IP = netns.STACK_IP

why = netns.can_run()
if why:
    pytest.skip(why, allow_module_level=True)


@pytest.fixture(scope="module", params=["micropython", "cpython"])
def dns_ns(request, tmp_path_factory):
    env = dict(os.environ, MORGANA_BUILD=str(tmp_path_factory.mktemp("mbtap")))
    for args in (["configure", "configs/dns.py", "--target", "unix-tap", "TAP=tap0",
                  "DHCP=no", "IP=" + IP, "PORT=53", "TCP_IDLE=2"], ["build"]):
        r = subprocess.run([MORGANA] + args, cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
    ns = netns.Netns("dns" + request.param[:2])
    log = open(os.path.join(str(tmp_path_factory.mktemp("log")), "dns.log"), "w+")
    ns.popen([MORGANA, "run", "--python", request.param], env=env, cwd=ROOT,
             stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        r = ns.run("dig", "@" + IP, "+time=1", "+tries=1", "+short", "sip.example.test",
                   check=False)
        if r.stdout.strip():
            break
        time.sleep(0.5)
    else:
        log.seek(0)
        ns.close()
        pytest.fail("dns on unix-tap never answered:\n" + log.read())
    yield ns
    ns.close()


def dig(ns, *args):
    return ns.run("dig", "@" + IP, "+time=3", "+tries=2", *args, check=False).stdout


def test_udp_answers_over_our_stack(dns_ns):
    assert dig(dns_ns, "+short", "sip.example.test").strip() == "192.0.2.60"
    out = dig(dns_ns, "nothing.example.test")
    assert "status: NXDOMAIN" in out and "flags: qr aa" in out
    assert dig(dns_ns, "+short", "example.test", "MX").split("\n")[:2] == [
        "10 mail.example.test.", "20 mail2.example.test."]


def test_tcp_and_truncation_retry_over_our_tcp(dns_ns):
    out = dig(dns_ns, "+tcp", "+keepopen", "www.example.test", "AAAA", "sip.example.test", "A")
    assert "example.test.\t\t3600\tIN\tAAAA\t2001:db8::1" in out
    assert "sip.example.test.\t3600\tIN\tA\t192.0.2.60" in out
    out = dig(dns_ns, "+bufsize=512", "big.example.test", "TXT")
    assert "Truncated, retrying in TCP mode" in out and "ANSWER: 1" in out
