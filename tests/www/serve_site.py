# Serve a static site with morgana.http.files on the unix-socket stack (morgana.net.socket_stack),
# on CPython or MicroPython:
#   serve_site.py crunch MODULE_DIR MODNAME PORT     (module made by morgana.host.crunch)
#   serve_site.py fat IMAGE PORT                     (FAT16/FAT32 image via blk_file)
# Prints "READY <port>" once listening. The integration tests start it as a subprocess,
# the way configs/www.py runs under `morgana run` on the unix-socket target.
import sys
from morgana import sched
from morgana.http import files as http
from morgana.net import socket_stack


async def main(argv):
    if argv[:1] == ["crunch"] and len(argv) == 4:
        sys.path.insert(0, argv[1])
        from morgana.store import kv_crunch
        kv = kv_crunch.from_module(argv[2])
    elif argv[:1] == ["fat"] and len(argv) == 3:
        from morgana.store import blk_file
        from morgana.store import kv_fat
        kv = await kv_fat.open_kv(blk_file.BlockFile(argv[1]))
    else:
        raise SystemExit("usage: serve_site.py crunch DIR MOD PORT | fat IMAGE PORT")
    port = int(argv[-1])
    stack = await socket_stack.Stack("127.0.0.1").start()
    srv = http.Server(kv, idle_timeout=5.0, head_timeout=2.0, write_timeout=10.0)
    stack.listen(port, srv.handle)
    print("READY %d" % port)
    try:
        sys.stdout.flush()
    except AttributeError:
        pass
    while True:
        await sched.sleep(3600)


if __name__ == "__main__":
    sched.run(main(sys.argv[1:]))
