# 10 MB over our TCP against Linux peers, both directions, clean and impaired
# (5% loss, 2% duplication, 10% reordering in both directions; see impair.py).
import hashlib
import os
import subprocess
import sys
import time

import netns

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bigfile  # noqa: E402

SIZE = 10 * 1024 * 1024
IMPAIR = "0.05,0.02,0.10"
_EXPECT = []


def _expected():
    if not _EXPECT:
        _EXPECT.append(hashlib.sha256(bigfile.make(SIZE)).hexdigest())
    return _EXPECT[0]


def _curl(ns, st, timeout):
    out = "/tmp/%s.big" % ns.name
    t0 = time.time()
    r = ns.run("curl", "-s", "-o", out, "--max-time", str(timeout),
               "http://%s/big.bin" % st.ip, check=False, timeout=timeout + 10)
    dt = time.time() - t0
    with open(out, "rb") as f:
        data = f.read()
    os.unlink(out)
    return r.returncode, len(data), hashlib.sha256(data).hexdigest(), dt


def _linux_server(ns):
    d = "/tmp/%s.www" % ns.name
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "big.bin"), "wb") as f:
        f.write(bigfile.make(SIZE))
    ns.popen(["python3", "-m", "http.server", "-b", netns.LINUX_IP, "-d", d, "8080"],
             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(50):
        if ns.run("python3", "-c", "import socket;socket.create_connection(('%s',8080),1)"
                  % netns.LINUX_IP, check=False).returncode == 0:
            return
        time.sleep(0.1)
    raise AssertionError("python http.server did not start")


def _fetched(st, timeout):
    import select
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([st.proc.stdout], [], [], 0.5)
        if r:
            line = st.proc.stdout.readline()
            if line.startswith("FETCHED "):
                status, n, digest, secs = line.split()[1:]
                return status, int(n), digest, float(secs)
            if not line:
                break
    raise AssertionError("no FETCHED line: %s" % st.stderr()[-2000:])


def test_curl_downloads_10mb_from_our_http(ns, impl):
    st = netns.OurStack(ns, impl, ["--ip", "10.0.0.2/24", "--http", "80:%d" % SIZE])
    rc, n, digest, dt = _curl(ns, st, 60)
    assert (rc, n, digest) == (0, SIZE, _expected())
    print("%s curl 10MB %.2fs %.1f MB/s" % (impl, dt, SIZE / dt / 1e6))


def test_our_client_downloads_10mb_from_linux(ns, impl):
    _linux_server(ns)
    st = netns.OurStack(ns, impl, ["--ip", "10.0.0.2/24",
                                   "--fetch", "%s:8080:/big.bin" % netns.LINUX_IP])
    status, n, digest, secs = _fetched(st, 60)
    assert (status, n, digest) == ("200", SIZE, _expected())
    print("%s fetch 10MB %.2fs" % (impl, secs))


def test_curl_10mb_impaired(ns, impl):
    st = netns.OurStack(ns, impl, ["--ip", "10.0.0.2/24", "--http", "80:%d" % SIZE,
                                   "--impair", IMPAIR])
    rc, n, digest, dt = _curl(ns, st, 420)
    assert (rc, n, digest) == (0, SIZE, _expected()), st.stderr()[-2000:]
    s = st.stats()
    assert s["_netif"]["lost"] > 100 and s["_netif"]["duplicated"] > 10
    assert s["tcp_rexmt"] > 0
    print("%s impaired curl 10MB %.1fs, %d lost, %d rexmt" % (impl, dt, s["_netif"]["lost"],
                                                             s["tcp_rexmt"]))


def test_our_client_10mb_impaired(ns, impl):
    _linux_server(ns)
    st = netns.OurStack(ns, impl, ["--ip", "10.0.0.2/24", "--impair", IMPAIR,
                                   "--fetch", "%s:8080:/big.bin" % netns.LINUX_IP])
    status, n, digest, secs = _fetched(st, 420)
    assert (status, n, digest) == ("200", SIZE, _expected())
    lost = st.stats()["_netif"]["lost"]
    assert lost > 100
    print("%s impaired fetch 10MB %.1fs, %d lost" % (impl, secs, lost))
