# www: a static web site. The files of htdocs/ are served over HTTP/1.1 by morgana.http.files
# from a key-value store (FS=crunch: compiled into the image; FS=fat: a FAT disk image),
# through host sockets (unix-socket) or our own TCP/IP stack (unix-tap, xen-*).
#   morgana configure configs/www.py --target unix-socket PORT=8080
#   morgana build && morgana run


def config(c):
    port = c.option("PORT", 80, "HTTP port")
    c.network()
    c.kv("htdocs")
    c.http(port)


async def main(env):
    names = env.kv.names()
    env.log.info("www: %d files in the %s store, port %d", len(names), env.get("FS"),
                 env.get("PORT"))
