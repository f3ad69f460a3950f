# Serve a zone on 127.0.0.1:PORT (UDP and TCP) with the mini stack; CPython or MicroPython:
#   python3 tests/dns/run_server.py configs/zones/example.zone 5353
#   MICROPYPATH=pylib:tests/dns build/unix/micropython tests/dns/run_server.py ZONE PORT
import sys
from morgana.dns.zone import load_zone
from morgana.dns.server import DnsServer
from mini_stack import MiniStack


def main(argv):
    zone_path, port = argv[1], int(argv[2])
    srv = DnsServer([load_zone(zone_path)])
    stack = MiniStack()
    srv.serve(stack, port, tcp_idle=None)
    print("ready", port)
    try:
        stack.run()
    except KeyboardInterrupt:
        pass
    print("stats", srv.stats)


main(sys.argv)
