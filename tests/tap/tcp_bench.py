# TCP benchmark over TAP, printing one table (run as root from the repo top):
#   .cache/venv/bin/python tests/tap/tcp_bench.py [seconds]
# Rows: bulk 10 MB download by curl from our stack, our client's 10 MB download from
# Linux, wrk HTTP req/s against our stack; CPython and MicroPython side by side, with the
# Linux kernel's own stack (curl / wrk against servers inside the namespace) as reference.
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import netns  # noqa: E402
from test_tcp_linux import App, curl, linux_http_server, SIZE  # noqa: E402


def wrk(ns, url, seconds):
    out = ns.run("wrk", "-t1", "-c8", "-d%ds" % seconds, url, check=False,
                 timeout=seconds + 30).stdout
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    return 0.0


def linux_reference(seconds):
    ns = netns.Netns("bench")
    try:
        root = "/tmp/%s-www" % ns.name
        os.makedirs(root, exist_ok=True)
        with open(os.path.join(root, "f.bin"), "wb") as f:
            f.write(os.urandom(SIZE))
        with open(os.path.join(root, "index.html"), "wb") as f:
            f.write(b"hello from linux\n")
        linux_http_server(ns, root)
        r = ns.run("curl", "-s", "-o", "/dev/null", "-w", "%{speed_download}",
                   "http://10.0.0.1:8000/f.bin", timeout=60)
        bulk = float(r.stdout) / 1e6
        ns.popen(["busybox", "httpd", "-f", "-p", "10.0.0.1:8081", "-h", root])
        import time
        time.sleep(0.5)
        rps = wrk(ns, "http://10.0.0.1:8081/index.html", seconds)
        return bulk, rps
    finally:
        ns.close()


def ours(impl, seconds):
    ns = netns.Netns("bench")
    try:
        root = "/tmp/%s-www" % ns.name
        os.makedirs(root, exist_ok=True)
        with open(os.path.join(root, "f.bin"), "wb") as f:
            f.write(os.urandom(SIZE))
        linux_http_server(ns, root)
        app = App(ns, impl, ["--http", "8080", "--get", "10.0.0.1:8000/f.bin"])
        got = app.line("GOT ", 120)
        client = SIZE / float(got[4]) / 1e6
        code, size, speed, sha = curl(ns, "/%d" % SIZE)
        assert code == 200 and size == SIZE
        rps = wrk(ns, "http://10.0.0.2:8080/", seconds)
        return speed / 1e6, client, rps
    finally:
        ns.close()


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    why = netns.can_run()
    if why:
        raise SystemExit("cannot run: " + why)
    rows = {}
    for impl in netns.IMPLS:
        rows[impl] = ours(impl, seconds)
    lin = linux_reference(seconds)
    print("%-34s %12s %12s %12s" % ("TCP over TAP, no loss", "CPython", "MicroPython",
                                    "Linux"))
    print("%-34s %12.1f %12.1f %12.1f" % ("curl 10 MB from server, MB/s", rows["cpython"][0],
                                          rows["micropython"][0], lin[0]))
    print("%-34s %12.1f %12.1f %12s" % ("client 10 MB from Linux, MB/s", rows["cpython"][1],
                                        rows["micropython"][1], "-"))
    print("%-34s %12.0f %12.0f %12.0f" % ("wrk -c8 HTTP GET /, req/s", rows["cpython"][2],
                                          rows["micropython"][2], lin[1]))
    print("(Linux column: the kernel stack inside the namespace; curl from python3 "
          "http.server, wrk against busybox httpd, which forks per request, no keep-alive)")


if __name__ == "__main__":
    main()
