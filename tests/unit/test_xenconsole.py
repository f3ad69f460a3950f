# PV console driver against a fake xenconsoled: output with back-pressure, input queue,
# sharing the out ring with the kernel's writer, lying indices.
import struct

import fake_xen
from fake_consoled import FakeConsoled
from morgana import sched
from morgana.xen import ring as R
import xenconsole


def _run(body):
    fake_xen.reset()
    R.log = lambda m: None
    cd = FakeConsoled()

    async def main():
        con = xenconsole.XenConsole()
        try:
            return await body(con, cd)
        finally:
            con.close()
    return fake_xen.run(main())


def test_output_reaches_backend():
    async def body(con, cd):
        await con.write(b"hello, xen\n")
        await sched.sleep(0)
        return bytes(cd.output), con.stats["out_bytes"]
    assert _run(body) == (b"hello, xen\n", 11)


def test_output_larger_than_ring_waits_for_space():
    data = bytes(range(256)) * 20              # 5120 bytes > 2048-byte ring

    async def body(con, cd):
        cd.paused = True
        t = sched.spawn(con.write(data))
        await sched.sleep(0.01)
        stuck = (not t.done(), len(cd.output))
        cd.resume()
        await t
        await sched.sleep(0)
        return stuck, bytes(cd.output), con.stats["out_waits"]
    stuck, out, waits = _run(body)
    assert stuck == (True, 0) and out == data and waits >= 1


def test_input_delivered_in_order():
    async def body(con, cd):
        cd.type(b"print(1)\r")
        a = await con.read()
        cd.type(b"x" * 3000)                  # more than the 1 KiB in ring
        got = b""
        while len(got) < 3000:
            got += await con.read()
        return a, got
    a, got = _run(body)
    assert a == b"print(1)\r" and got == b"x" * 3000


def test_interleaves_with_kernel_writer():
    async def body(con, cd):
        await con.write(b"A")
        # the kernel's console_write produced "K" directly into the ring
        page = fake_xen.console_page()
        prod = page.u32[771]
        page.mv[1024 + (prod & 2047)] = ord("K")
        page.u32[771] = prod + 1
        await con.write(b"B")
        await sched.sleep(0)
        return bytes(cd.output)
    assert _run(body) == b"AKB"


def _lying(lie):
    logs = []

    async def body(con, cd):
        R.log = logs.append
        await con.write(b"ok")
        cd.lie = lie
        cd.service()
        await sched.sleep(0.01)
        out = []
        for op in (con.read, lambda: con.write(b"more")):
            try:
                await sched.with_timeout(1, op())
                out.append("ok")
            except R.RingError:
                out.append("refused")
            except sched.Timeout:
                out.append("hung")
        return out
    return _run(body), logs


def test_lying_in_prod():
    out, logs = _lying("in_prod")
    assert out == ["refused", "refused"] and len(logs) == 1 and "producer" in logs[0]


def test_lying_out_cons():
    out, logs = _lying("out_cons")
    assert out == ["refused", "refused"] and len(logs) == 1 and "consumer" in logs[0]
