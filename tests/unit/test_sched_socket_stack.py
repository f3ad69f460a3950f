# morgana.net.socket_stack: the network API over host sockets on loopback, driven by the
# scheduler (TCP echo, UDP echo, refused connect, bad arguments).
from morgana import sched
from morgana.net import socket_stack


def _port(k):
    # a port per test and run, away from common services
    return 20000 + (sched.now_ns() // 1000 + k * 997) % 20000


def test_tcp_echo_roundtrip():
    port = _port(1)
    st = socket_stack.Stack("127.0.0.1")
    peers = []

    async def echo(flow):
        peers.append(flow.peer)
        while True:
            b = await flow.read()
            if not b:
                return
            await flow.write(b.upper())

    async def main():
        st.listen(port, echo)
        f = await st.connect("127.0.0.1", port)
        await f.write(b"hello " * 1000)
        got = b""
        while len(got) < 6000:
            b = await f.read()
            assert b, "early EOF"
            got += b
        await f.close()
        await sched.sleep(0.01)
        return got

    try:
        got = sched.run(main())
    finally:
        st.stop()
    assert got == b"HELLO " * 1000
    assert peers[0][0] == "127.0.0.1" and peers[0][1] > 0, peers
    assert st.stats["accepted"] == 1 and st.stats["connects"] == 1


def test_eof_seen_by_reader():
    port = _port(2)
    st = socket_stack.Stack("127.0.0.1")

    async def bye(flow):
        await flow.write(b"bye")
        await flow.close()

    async def main():
        st.listen(port, bye)
        f = await st.connect("127.0.0.1", port)
        data = b""
        while True:
            b = await f.read()
            if not b:
                break
            data += b
        await f.close()
        return data

    try:
        assert sched.run(main()) == b"bye"
    finally:
        st.stop()


def test_udp_echo():
    port = _port(3)
    st = socket_stack.Stack("127.0.0.1")
    got = sched.Promise()

    def server(data, ip, sport):
        sched.spawn(st.udp_send(data.upper(), ip, sport, src_port=port))

    def client(data, ip, sport):
        got.wakeup((data, ip, sport))

    async def main():
        st.udp_listen(port, server)
        st.udp_listen(port + 1, client)
        await st.udp_send(b"abc", "127.0.0.1", port, src_port=port + 1)
        return await sched.with_timeout(2, got)

    try:
        assert sched.run(main()) == (b"ABC", "127.0.0.1", port)
    finally:
        st.stop()


def test_connect_refused_raises():
    st = socket_stack.Stack("127.0.0.1")

    async def main():
        try:
            await st.connect("127.0.0.1", 1)
        except OSError:
            return "refused"

    assert sched.run(main()) == "refused"


def test_bad_arguments_named():
    st = socket_stack.Stack("127.0.0.1")
    for fn, args, word in ((st.listen, (70000, None), "70000"),
                           (socket_stack.Stack, ("10.0.0",), "10.0.0")):
        try:
            fn(*args)
        except ValueError as e:
            assert word in str(e), str(e)
        else:
            raise AssertionError("accepted %r" % (args,))


def test_listen_twice_refused():
    port = _port(4)
    st = socket_stack.Stack("127.0.0.1")

    async def h(flow):
        pass

    async def main():
        st.listen(port, h)
        try:
            st.listen(port, h)
        except ValueError as e:
            return str(e)

    try:
        assert "already" in sched.run(main())
    finally:
        st.stop()


def test_peer_of_micropython_sockaddr():
    raw = bytearray(b"\x02\x00\x1f\x90\x7f\x00\x00\x01" + bytes(8))
    assert socket_stack.peer_of(raw) == ("127.0.0.1", 8080)
    assert socket_stack.peer_of(("10.0.0.1", 53)) == ("10.0.0.1", 53)
