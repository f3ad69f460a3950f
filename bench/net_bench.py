# Network benchmarks on unix-tap: our stack (CPython, MicroPython) vs the Linux kernel's
# stack serving the same files, printed as a table with ratios.
#   python bench/net_bench.py [--size MB] [--secs S]      (root: netns + TAP)
#   python bench/net_bench.py --csum                       (checksum variants, this Python)
#   python bench/net_bench.py --path                       (stack per-frame cost, no I/O)
# Setup per row: a fresh namespace; the client (curl, wrk) runs inside it.
#   ours:  client -> tap0 (10.0.0.1) -> our stack process (10.0.0.2) serving morgana.http.files
#   linux: client -> veth (10.0.0.1) -> peer namespace (10.0.0.2): the same runner and
#          morgana.http.files over socket_stack (the kernel's TCP/IP), then busybox httpd
# bulk = curl of a SIZE MB file (best of 3); req/s = wrk -t1 -c10 on a 1 KiB file.
import os
import sys
import time

# (MicroPython has no os.path: the --csum mode must import on both)
ROOT = (__file__.rsplit("/", 1)[0] if "/" in __file__ else ".") + "/.."


def csum_bench():
    sys.path.insert(0, ROOT + "/pylib")
    from morgana.net import checksum
    try:
        from time import ticks_us, ticks_diff

        def clock():
            return ticks_us() / 1e6
    except ImportError:
        clock = time.perf_counter
    buf = bytearray(1500)
    for i in range(1500):
        buf[i] = (i * 7) & 255
    impls = [("portable", checksum.csum_py)]
    if checksum.impl != "py":
        impls.append((checksum.impl, checksum.csum))
    impl_name = "micropython" if sys.implementation.name == "micropython" else "cpython"
    for name, fn in impls:
        n = 0
        t0 = clock()
        while clock() - t0 < 0.5:
            for _ in range(100):
                fn(buf)
            n += 100
        dt = clock() - t0
        print("CSUM %s %s %.0f %.1f" % (impl_name, name, n / dt, n * 1500 / dt / 1e6))


def path_bench():
    # Frames/s through Stack.input -> UDP handler, and UDP sends through ip_output to
    # the tx queue: the stack's own per-frame cost, without the kernel or TAP.
    sys.path.insert(0, ROOT + "/pylib")
    from morgana import sched
    from morgana.net import ethernet, ipv4, udp
    from morgana.net.stack import Stack
    try:
        from time import ticks_us

        def clock():
            return ticks_us() / 1e6
    except ImportError:
        clock = time.perf_counter

    class Nif:
        mac = b"\x02\x00\x00\x00\x00\x02"
        mtu = 1500
        stats = {}

    try:
        import gc
        gc.threshold(8 << 20)  # as tests/tap/run_stack.py does on MicroPython
    except AttributeError:
        pass
    st = Stack(Nif(), ip="10.0.0.2", tcp=False)
    st._txq = sched.Queue(1 << 30)
    got = [0]

    def h(data, ip, port):
        got[0] += 1

    st.udp_listen(7, h)
    st.arp.update(0x0A000001, b"\x02\x00\x00\x00\x00\x01", 1e12)
    payload = bytes(1400)
    pkt = ipv4.packets(0x0A000001, 0x0A000002, 17, udp.build(0x0A000001, 0x0A000002, 5, 7,
                                                              payload), 1, 1500)[0]
    frame = ethernet.header(Nif.mac, b"\x02\x00\x00\x00\x00\x01", 0x800) + bytes(pkt)
    py = "micropython" if sys.implementation.name == "micropython" else "cpython"
    n = 20000
    t0 = clock()
    for _ in range(n):
        st.input(frame)
    dt = clock() - t0
    assert got[0] == n
    print("PATH %s rx_udp_1400 %.0f %.1f" % (py, n / dt, n * 1442 / dt / 1e6))
    t0 = clock()
    for _ in range(n):
        st.udp_output(0x0A000002, 0x0A000001, 7, 5, payload)
        st._txq.get_nowait()
    dt = clock() - t0
    print("PATH %s tx_udp_1400 %.0f %.1f" % (py, n / dt, n * 1442 / dt / 1e6))


def main():
    import subprocess
    sys.path.insert(0, ROOT + "/tests/tap")
    import netns
    import bigfile

    args = sys.argv[1:]
    size_mb = int(args[args.index("--size") + 1]) if "--size" in args else 10
    secs = int(args[args.index("--secs") + 1]) if "--secs" in args else 5
    size = size_mb * 1024 * 1024

    def curl_best(ns, ip):
        best = None
        for _ in range(3):
            t0 = time.time()
            r = ns.run("curl", "-s", "-o", "/dev/null", "-w", "%{size_download}",
                       "--max-time", "120", "http://%s/big.bin" % ip, check=False, timeout=130)
            dt = time.time() - t0
            if r.returncode != 0 or int(r.stdout or 0) != size:
                return None
            best = dt if best is None or dt < best else best
        return size / best / 1e6

    def wrk(ns, ip):
        r = ns.run("wrk", "-t1", "-c10", "-d%ds" % secs, "http://%s/small.html" % ip,
                   check=False, timeout=secs + 30)
        for line in r.stdout.splitlines():
            if line.startswith("Requests/sec:"):
                return float(line.split()[1])
        return None

    rows = {}
    for impl in netns.IMPLS:
        ns = netns.Netns("bench")
        try:
            st = netns.OurStack(ns, impl, ["--ip", "10.0.0.2/24", "--http", "80:%d" % size],
                                ready_timeout=60)
            rows[impl] = (curl_best(ns, st.ip), wrk(ns, st.ip))
        finally:
            ns.close()
    # Linux: the server in a peer namespace behind a veth pair; the kernel does TCP/IP
    # for the same morgana.http.files code (over socket_stack) and for busybox httpd.
    ns = netns.Netns("benchl", linux_ip=None)
    peer = netns.Netns("benchp", linux_ip=None)
    www = "/tmp/%s.www" % peer.name
    try:
        os.makedirs(www, exist_ok=True)
        with open(os.path.join(www, "big.bin"), "wb") as f:
            f.write(bigfile.make(size))
        with open(os.path.join(www, "small.html"), "wb") as f:
            f.write(bigfile.make(1024))
        netns.sh("ip", "link", "add", "vb0", "netns", ns.name, "type", "veth", "peer",
                 "name", "vb1", "netns", peer.name)
        ns.run("ip", "addr", "add", "10.0.0.1/24", "dev", "vb0")
        ns.run("ip", "link", "set", "vb0", "up")
        peer.run("ip", "addr", "add", "10.0.0.2/24", "dev", "vb1")
        peer.run("ip", "link", "set", "vb1", "up")
        for impl in netns.IMPLS:
            srv = netns.OurStack(peer, impl, ["--socket", "10.0.0.2", "--http",
                                              "80:%d" % size], ready_timeout=60, tap=None)
            rows["linux+" + impl] = (curl_best(ns, "10.0.0.2"), wrk(ns, "10.0.0.2"))
            srv.proc.terminate()
            srv.proc.wait(5)
        peer.popen(["busybox", "httpd", "-f", "-p", "10.0.0.2:80", "-h", www],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        rows["linux"] = (curl_best(ns, "10.0.0.2"), wrk(ns, "10.0.0.2"))
    finally:
        peer.close()
        ns.close()
    csum = []
    path = []
    for exe in ([sys.executable], [netns.MICROPYTHON, "-X", "heapsize=64M"]):
        for mode, tag, out in (("--csum", "CSUM", csum), ("--path", "PATH", path)):
            r = subprocess.run(exe + [os.path.abspath(__file__), mode], capture_output=True,
                               text=True, timeout=120)
            out += [l.split()[1:] for l in r.stdout.splitlines() if l.startswith(tag)]
    report(rows, csum, path, size_mb, secs)


def _fmt(v, ref):
    if v is None:
        return "%10s %7s" % ("fail", "")
    return "%10.1f %6.2fx" % (v, v / ref) if ref else "%10.1f %7s" % (v, "")


LABELS = (("cpython", "our stack, CPython"), ("micropython", "our stack, MicroPython"),
          ("linux+cpython", "Linux stack, CPython"),
          ("linux+micropython", "Linux stack, MicroPython"),
          ("linux", "Linux stack, busybox"))


def report(rows, csum, path, size_mb, secs):
    print("unix-tap; bulk: curl of %d MB (best of 3); req/s: wrk -t1 -c10 -d%ds, 1 KiB"
          % (size_mb, secs))
    print("rows 1-2: morgana.http.files on our TCP/IP over TAP; rows 3-4: the same morgana.http.files")
    print("on socket_stack (Linux kernel TCP/IP over veth); ratio = ours / Linux, same Python")
    print("%-26s %10s %7s %12s %7s" % ("server", "bulk MB/s", "ratio", "HTTP req/s", "ratio"))
    for key, label in LABELS:
        if key not in rows:
            continue
        b, r = rows[key]
        ref = rows.get("linux+" + key, (None, None))
        print("%-26s %s %s" % (label, _fmt(b, ref[0]), _fmt(r, ref[1])))
    print()
    print("%-12s %-10s %14s %10s" % ("checksum", "impl", "1500B sums/s", "MB/s"))
    for py, name, per_s, mbs in csum:
        print("%-12s %-10s %14s %10s" % (py, name, per_s, mbs))
    print()
    print("%-12s %-14s %14s %10s" % ("stack only", "path", "frames/s", "MB/s"))
    for py, name, per_s, mbs in path:
        print("%-12s %-14s %14s %10s" % (py, name, per_s, mbs))


if __name__ == "__main__":
    if "--csum" in sys.argv:
        csum_bench()
    elif "--path" in sys.argv:
        path_bench()
    else:
        main()
