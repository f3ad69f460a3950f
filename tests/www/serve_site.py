# Serve a static site with morgana.http over host sockets, on CPython or MicroPython:
#   serve_site.py crunch MODULE_DIR MODNAME PORT     (module made by morgana.crunch)
#   serve_site.py fat IMAGE PORT                     (FAT16/FAT32 image via blk_file)
# Prints "READY <port>" once listening. The integration tests start it as a subprocess;
# it stands in for `morgana run` of configs/www.py on the unix-socket target, with a
# minimal non-blocking socket flow of its own.
import sys
import socket
from morgana import sched, http

EAGAIN = (11, 35)          # Linux, BSD


class SockFlow:
    def __init__(self, s, peer):
        self.s = s
        self.peer = peer

    async def read(self):
        while True:
            try:
                return self.s.recv(65536)
            except OSError as e:
                if e.args[0] not in EAGAIN:
                    raise
            await sched.readable(self.s)

    async def write(self, b):
        mv = memoryview(b)
        while len(mv):
            try:
                n = self.s.send(mv)
            except OSError as e:
                if e.args[0] not in EAGAIN:
                    raise
                n = 0
            if n:
                mv = mv[n:]
            else:
                await sched.writable(self.s)

    async def close(self):
        self.s.close()


async def serve(kv, port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
    ls.listen(128)
    ls.setblocking(False)
    srv = http.Server(kv, idle_timeout=5.0, head_timeout=2.0, write_timeout=10.0)
    print("READY %d" % port)
    try:
        sys.stdout.flush()
    except AttributeError:
        pass
    while True:
        await sched.readable(ls)
        try:
            c, addr = ls.accept()
        except OSError as e:
            if e.args[0] in EAGAIN:
                continue
            raise
        c.setblocking(False)
        sched.spawn(srv.handle(SockFlow(c, ("127.0.0.1", 0))))


async def main(argv):
    if argv[0] == "crunch":
        sys.path.insert(0, argv[1])
        from morgana import kv_crunch
        kv = kv_crunch.from_module(argv[2])
        port = int(argv[3])
    elif argv[0] == "fat":
        from morgana import blk_file, kv_fat
        kv = await kv_fat.open_kv(blk_file.BlockFile(argv[1]))
        port = int(argv[2])
    else:
        raise SystemExit("usage: serve_site.py crunch DIR MOD PORT | fat IMAGE PORT")
    await serve(kv, port)


if __name__ == "__main__":
    sched.run(main(sys.argv[1:]))
