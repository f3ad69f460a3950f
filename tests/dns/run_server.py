# Serve a zone on 127.0.0.1:PORT (UDP and TCP) through morgana.dns.app on the scheduler,
# with the mini host-socket stack; CPython or MicroPython:
#   PYTHONPATH=pylib:tests/dns python3 tests/dns/run_server.py configs/zones/example.zone 5353
#   MICROPYPATH=pylib:tests/dns build/unix/micropython tests/dns/run_server.py ZONE PORT
# Prints "ready PORT" once both sockets listen.
import sys

from morgana import sched
from morgana.dns import app
from mini_stack import MiniStack


def say(msg):
    print(msg)
    if hasattr(sys.stdout, "flush"):
        sys.stdout.flush()


def main(argv):
    zone_path, port = argv[1], int(argv[2])
    idle = float(argv[3]) if len(argv) > 3 else 10.0
    zones = app.zones_from_files([zone_path])

    async def go():
        srv = app.start(MiniStack(), zones, port, tcp_idle=idle, log=say)
        say("ready %d" % port)
        while True:
            await sched.sleep(3600)
            say("stats %r" % (srv.stats,))

    sched.run(go())


main(sys.argv)
