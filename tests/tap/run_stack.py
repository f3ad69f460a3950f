# Start our stack over a TAP device, as a process (CPython or MicroPython):
#   run_stack.py --tap tap0 --ip 10.0.0.2/24 [--gw 10.0.0.1] [--mac 02:..] [--dhcp]
#   run_stack.py --socket 10.0.0.2 ...   (same services over socket_stack: the Linux
#                                          kernel's TCP/IP, for benchmarks)
#                [--fallback 10.0.0.50/24] [--serve-bytes PORT:N] [--http PORT:SIZE]
#                [--fetch IP:PORT:/path] [--impair LOSS,DUP,REORDER] [--budget BYTES]
# Services: UDP echo on port 7; UDP port 9999 answers "stats" with the stack counters
# (JSON, with "_mem": stack.memory() and "_heap": the heap probe's report, heap_probe.py);
# with --serve-bytes, each TCP connection to PORT receives N pattern bytes;
# with --http, morgana.http.files serves /big.bin (bigfile.make(SIZE)) and /small.html (1 KiB).
# --fetch downloads over our TCP with a minimal HTTP/1.0 GET and prints
# "FETCHED <status> <body bytes> <sha256 hex> <seconds>".
# Prints "READY <ip>" once it has an address. Runs until killed.
import sys
import json

from morgana import sched
from morgana.net.addr import int_to_ip, mac_from_str
from morgana.net.stack import Stack
from morgana.net.tap import Tap


def _prefix_mask(p):
    return int_to_ip((0xFFFFFFFF << (32 - int(p))) & 0xFFFFFFFF)


def parse_args(argv):
    opts = {"tap": None, "ip": None, "mask": "255.255.255.0", "gw": None, "mac": None,
            "dhcp": False, "fallback": None, "serve": None, "http": None,
            "fetch": None, "impair": None, "socket": None, "budget": None}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--dhcp":
            opts["dhcp"] = True
            i += 1
            continue
        if i + 1 >= len(argv):
            raise SystemExit("missing value for %s" % a)
        v = argv[i + 1]
        if a == "--tap":
            opts["tap"] = v
        elif a == "--ip":
            ip, _, p = v.partition("/")
            opts["ip"] = ip
            if p:
                opts["mask"] = _prefix_mask(p)
        elif a == "--gw":
            opts["gw"] = v
        elif a == "--mac":
            opts["mac"] = mac_from_str(v)
        elif a == "--fallback":
            ip, _, p = v.partition("/")
            opts["fallback"] = (ip, _prefix_mask(p or "24"), None)
        elif a == "--http":
            port, _, n = v.partition(":")
            opts["http"] = (int(port), int(n))
        elif a == "--socket":
            opts["socket"] = v
        elif a == "--budget":
            opts["budget"] = int(v)
        elif a == "--impair":
            opts["impair"] = [float(x) for x in v.split(",")]
        elif a == "--fetch":
            ip, port, path = v.split(":", 2)
            opts["fetch"] = (ip, int(port), path)
        elif a == "--serve-bytes":
            port, _, n = v.partition(":")
            opts["serve"] = (int(port), int(n))
        else:
            raise SystemExit("unknown option %s" % a)
        i += 2
    if not opts["tap"] and not opts["socket"]:
        raise SystemExit("--tap NAME or --socket IP is required")
    return opts


PATTERN = bytes(range(256)) * 64  # 16 KiB, repeated


async def main(opts):
    if opts["socket"]:
        from morgana.net.socket_stack import Stack as SocketStack
        st = SocketStack(opts["socket"])
        nif = None
    else:
        nif = Tap(opts["tap"], mac=opts["mac"])
        if opts["impair"]:
            from impair import ImpairedNetif
            loss, dup, reorder = opts["impair"]
            nif = ImpairedNetif(nif, loss, dup, reorder)
        if opts["dhcp"]:
            st = Stack(nif, dhcp=True, fallback=opts["fallback"], mem_budget=opts["budget"])
        else:
            st = Stack(nif, ip=opts["ip"], netmask=opts["mask"], gateway=opts["gw"],
                       mem_budget=opts["budget"])
    from heap_probe import HeapProbe
    probe = HeapProbe()

    async def echo(data, ip, port):
        await st.udp_send(data, ip, port, src_port=7)

    async def control(data, ip, port):
        if data.strip() == b"stats":
            s = dict(st.stats)
            s["_ip"] = st.ip if isinstance(st.ip, str) else int_to_ip(st.ip)
            if nif is not None:
                s["_netif"] = nif.stats
            s["_mem"] = st.memory()
            s["_heap"] = probe.report()
            await st.udp_send(json.dumps(s).encode(), ip, port, src_port=9999)

    st.udp_listen(7, echo)
    st.udp_listen(9999, control)
    await st.start()
    tcp_ok = opts["socket"] or st.tcp is not None
    if opts["serve"] and tcp_ok:
        port, n = opts["serve"]

        async def blast(flow):
            left = n
            while left > 0:
                chunk = PATTERN if left >= len(PATTERN) else PATTERN[:left]
                await flow.write(chunk)
                left -= len(chunk)
            await flow.close()

        st.listen(port, blast)
    if opts["http"] and tcp_ok:
        from morgana.http.files import Server
        from morgana.store.kv_crunch import KV
        import bigfile
        port, size = opts["http"]
        kv = KV({"big.bin": (1700000000, "application/octet-stream", bigfile.make(size)),
                 "small.html": (1700000000, "text/html", bigfile.make(1024))})
        st.listen(port, Server(kv).handle)
    probe.rebase()
    say("READY %s" % (opts["socket"] or int_to_ip(st.ip)))
    if opts["fetch"]:
        await fetch(st, *opts["fetch"])
    while True:
        await sched.sleep(3600)


def say(line):
    print(line)
    try:
        sys.stdout.flush()
    except AttributeError:
        pass


async def fetch(st, ip, port, path):
    import hashlib
    import binascii
    t0 = sched.now()
    flow = await st.connect(ip, port)
    await flow.write(b"GET " + path.encode() + b" HTTP/1.0\r\nHost: " + ip.encode()
                     + b"\r\n\r\n")
    head = b""
    h = hashlib.sha256()
    n = 0
    while True:
        d = await flow.read()
        if not d:
            break
        if head is not None:
            head += d
            i = head.find(b"\r\n\r\n")
            if i < 0:
                continue
            d = head[i + 4:]
            status = head.split(b" ", 2)[1].decode()
            head = None
        h.update(d)
        n += len(d)
    await flow.close()
    dt = sched.now() - t0
    say("FETCHED %s %d %s %.3f" % (status if head is None else "none", n,
                                  binascii.hexlify(h.digest()).decode(), dt))


def gc_policy(argv):
    # MicroPython: allocation slows down as uncollected garbage piles up in a big heap
    # (bench --path: UDP rx 2x slower with -X heapsize=64M), but collecting too often
    # costs bulk TCP (curl 10 MB: 1 MiB threshold ~40% slower). 8 MiB was no worse than
    # the default on bulk and fetch, and bounds the pile-up.
    # --gc-threshold BYTES overrides (0: MicroPython's default, collect when full).
    n = 8 << 20
    if "--gc-threshold" in argv:
        i = argv.index("--gc-threshold")
        n = int(argv[i + 1])
        del argv[i:i + 2]
    try:
        import gc
        if n:
            gc.threshold(n)
    except AttributeError:
        pass  # CPython


if __name__ == "__main__":
    args = sys.argv[1:]
    gc_policy(args)
    sched.run(main(parse_args(args)))
