# echo: TCP and UDP echo (RFC 862) on PORT, the smallest service without HTTP. It uses
# the network API every target shares (host sockets on unix-socket, our TCP/IP stack on
# unix-tap and Xen): stack.listen / flow.read / flow.write, stack.udp_listen / udp_send.
#   morgana configure configs/echo.py --target unix-socket PORT=7007
#   morgana build && morgana run        # then: nc 127.0.0.1 7007, nc -u 127.0.0.1 7007
from morgana import sched


def config(c):
    c.option("PORT", 7, "TCP and UDP port")
    c.network()


async def main(env):
    stack = env.stack
    port = env.get("PORT")

    async def tcp_echo(flow):
        while True:
            data = await flow.read()
            if not data:              # the peer closed its side
                break
            await flow.write(data)
        await flow.close()

    async def udp_echo(data, ip, src_port):
        await stack.udp_send(data, ip, src_port, src_port=port)

    stack.listen(port, tcp_echo)
    stack.udp_listen(port, udp_echo)
    env.log.info("echo: TCP and UDP on port %d", port)
    await sched.Promise()             # serve until the unikernel is stopped
