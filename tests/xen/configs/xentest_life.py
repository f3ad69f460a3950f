# xentest_life: the guest of tests/xen/test_lifecycle_xen.py (xl shutdown / xl reboot).
# GET / answers "life ok"; GET /big?kib=N&ms=M streams N KiB (chunked, 16 KiB pieces of
# block(i) below, M ms apart), so a download can be under way when the toolstack asks the
# domain to stop. An app shutdown hook prints "life: hook REASON" on the console.
def config(c):
    c.option("PORT", 80, "HTTP port")
    c.network()


def block(i):
    """The i-th 16 KiB piece of /big (the host computes the same for its sha256)."""
    return (b"%015d\n" % i) * 1024


class Paced:
    def __init__(self, n, ms):
        self.i = 0
        self.n = n
        self.ms = ms

    def __aiter__(self):
        return self

    async def __anext__(self):
        from morgana import sched
        if self.i >= self.n:
            raise StopAsyncIteration
        if self.ms and self.i:
            await sched.sleep(self.ms / 1000)
        self.i += 1
        return block(self.i - 1)


async def main(env):
    from morgana import lifecycle
    from morgana.http import App, Response
    app = App()

    @app.route("/")
    def index(req):
        return b"life ok\n"

    @app.route("/big")
    def big(req):
        kib = int(req.args.get("kib", 1024))
        ms = int(req.args.get("ms", 0))
        return Response(Paced(kib // 16, ms), content_type="application/octet-stream")

    @lifecycle.on_shutdown
    async def hook(reason):
        print("life: hook %s, grace %.1f s" % (reason, lifecycle.grace()))

    env.log.info("life: serving on port %d", env.get("PORT"))
    await app.serve(env.stack, env.get("PORT"))
