# The scheduler on the Unix platform: the idle loop blocks in poll (no CPU burnt while
# sleeping) and fd readiness wakes exactly the waiting task.
import socket
from morgana import sched


def _cpu_ticks():
    # utime + stime of this process, in clock ticks (1/100 s), works on both Pythons
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_idle_loop_blocks():
    async def sleeper(d):
        await sched.sleep(d)

    async def main():
        await sched.join([sleeper(0.1 * i) for i in range(1, 6)])

    c0 = _cpu_ticks()
    t0 = sched.now()
    sched.run(main())
    wall = sched.now() - t0
    cpu = _cpu_ticks() - c0
    assert wall >= 0.5, wall
    assert cpu <= 5, cpu       # <= 50 ms of CPU over half a second asleep


def _udp_pair():
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    port = 30000 + (sched.now_ns() // 1000) % 20000
    rx.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
    rx.setblocking(False)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    return rx, tx, socket.getaddrinfo("127.0.0.1", port)[0][-1]


def test_readable_wakes_on_datagram():
    rx, tx, addr = _udp_pair()
    got = []

    async def sender():
        await sched.sleep(0.02)
        tx.sendto(b"ping", addr)

    async def main():
        sched.spawn(sender())
        t0 = sched.now()
        await sched.readable(rx)
        got.append(rx.recv(100))
        return sched.now() - t0

    try:
        dt = sched.run(main())
    finally:
        rx.close()
        tx.close()
    assert got == [b"ping"]
    assert 0.02 <= dt < 1.0, dt


def test_readable_with_timeout_and_single_waiter():
    rx, tx, addr = _udp_pair()

    async def second():
        await sched.readable(rx)

    async def main():
        try:
            await sched.with_timeout(0.02, sched.readable(rx))
        except sched.Timeout:
            pass
        else:
            raise AssertionError("nothing was sent, yet readable")
        t = sched.spawn(second())
        await sched.sleep(0)
        try:
            await sched.readable(rx)
        except RuntimeError as e:
            assert "already has a waiter" in str(e)
            t.cancel()
            return "refused"

    try:
        assert sched.run(main()) == "refused"
    finally:
        rx.close()
        tx.close()


def test_writable_immediately_for_udp():
    rx, tx, addr = _udp_pair()

    async def main():
        await sched.writable(tx.fileno())
        return True

    try:
        assert sched.run(main()) is True
    finally:
        rx.close()
        tx.close()
