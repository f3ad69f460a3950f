# xenstore client against the fake xenstored: operations, errors, concurrency, watches,
# transactions, payload limits.
import fake_xen
from fake_xenstored import FakeXenstored
from morgana import sched
from morgana.xen import xenstore as X
from morgana.xen import ring as R


def _world():
    fake_xen.reset()
    R.log = lambda m: None
    return FakeXenstored()


def _run(d, fn):
    async def main():
        xs = X.Xenstore(fake_xen.store_page(), fake_xen.start_info()["store_evtchn"])
        try:
            return await fn(xs)
        finally:
            xs.close()
    return fake_xen.run(main())


def test_write_read_directory_rm():
    d = _world()

    async def t(xs):
        await xs.write("data/a", "1")
        await xs.write("/local/domain/1/data/b", b"two")
        await xs.mkdir("data/c")
        got = (await xs.read("data/a"), await xs.read("data/b"), await xs.directory("data"))
        await xs.rm("data/a")
        gone = await xs.exists("data/a")
        return got, gone
    got, gone = _run(d, t)
    assert got == ("1", "two", ["a", "b", "c"])
    assert gone is False
    assert d.get("data/b") == b"two" and d.get("data/a") is None


def test_errors_map_to_exceptions():
    d = _world()
    d.denied.add("/local/domain/0/secret")

    async def t(xs):
        out = []
        for coro in (xs.read("nope"), xs.read("/local/domain/0/secret"), xs.rm("nope")):
            try:
                await coro
                out.append(None)
            except X.XenstoreError as e:
                out.append((type(e).__name__, e.code))
        return out
    assert _run(d, t) == [("NoEntry", "ENOENT"), ("PermissionDenied", "EACCES"),
                          ("NoEntry", "ENOENT")]
    e = X.error_for("ENOSPC")
    assert type(e) is X.XenstoreError and e.code == "ENOSPC"


def test_concurrent_requests_matched_by_id():
    d = _world()
    for i in range(20):
        d.set("k/%d" % i, "v%d" % i)

    async def t(xs):
        return await sched.join([xs.read("k/%d" % i) for i in range(20)])
    assert _run(d, t) == ["v%d" % i for i in range(20)]


def test_replies_out_of_order():
    d = _world()
    d.set("x", "X")
    d.set("y", "Y")

    async def t(xs):
        d.hold = True
        a = sched.spawn(xs.read("x"))
        b = sched.spawn(xs.read("y"))
        await sched.sleep(0.01)
        assert not a.done() and not b.done()
        # answer in reverse order
        import struct
        msgs = []
        buf = d.inbuf
        while buf:
            hdr = struct.unpack_from("<IIII", buf, 0)
            msgs.append((hdr, bytes(buf[16:16 + hdr[3]])))
            buf = buf[16 + hdr[3]:]
        d.inbuf = bytearray()
        d.hold = False
        for (hdr, payload) in reversed(msgs):
            d.handle(hdr[0], hdr[1], hdr[2], payload)
        d.flush()
        return await a, await b
    assert _run(d, t) == ("X", "Y")


def test_large_values_cross_the_ring_in_pieces():
    d = _world()
    big = "z" * 4000            # payload 4000 + path: several 1 KiB ring fills

    async def t(xs):
        await xs.write("big", big)
        return await xs.read("big")
    assert _run(d, t) == big


def test_payload_limit_enforced_before_sending():
    d = _world()

    async def t(xs):
        try:
            await xs.write("big", "z" * 4096)
            return "sent"
        except ValueError:
            return len(d.log)
    assert _run(d, t) == 0


def test_path_checks():
    for bad in ("", "a\x00b", "a" * 2049, "/" + "a" * 3072):
        try:
            X.check_path(bad)
            assert False, bad
        except ValueError:
            pass
    assert X.check_path("/" + "a" * 3071)


def test_watch_fires_initially_and_on_change():
    d = _world()

    async def t(xs):
        w = await xs.watch("device/vif")
        first = await w.get()
        d.set("device/vif/0/state", "4")
        second = await w.get()
        await xs.write("elsewhere", "1")            # not below the watch
        await xs.write("device/vif/0/mac", "aa")    # below it
        third = await w.get()
        await w.unwatch()
        d.set("device/vif/0/state", "5")
        await xs.read("device/vif/0/state")         # round trip: no event came
        return first, second, third, len(w.events), len(xs.watches)
    assert _run(d, t) == ("device/vif", "device/vif/0/state", "device/vif/0/mac", 0, 0)


def test_two_watches_get_their_own_events():
    d = _world()

    async def t(xs):
        a = await xs.watch("/a")
        b = await xs.watch("/b")
        await a.get()
        await b.get()
        d.set("/b/x", "1")
        got = await b.get()
        return got, len(a.events)
    assert _run(d, t) == ("/b/x", 0)


def test_transaction_commits():
    d = _world()

    async def body(tx):
        v = int(await tx.read("counter"))
        await tx.write("counter", str(v + 1))
        await tx.write("other", "x")
        return v + 1

    async def t(xs):
        await xs.write("counter", "41")
        return await xs.transaction(body)
    assert _run(d, t) == 42
    assert d.get("counter") == b"42" and d.get("other") == b"x"
    assert not d.txs


def test_transaction_retries_on_eagain():
    d = _world()
    d.eagain_commits = 2
    calls = []

    async def body(tx):
        calls.append(1)
        await tx.write("k", "v%d" % len(calls))

    async def t(xs):
        await xs.transaction(body)
    _run(d, t)
    assert len(calls) == 3 and d.get("k") == b"v3"


def test_transaction_conflict_retries_and_sees_new_value():
    d = _world()
    d.set("n", "1")
    seen = []

    async def body(tx):
        v = int(await tx.read("n"))
        seen.append(v)
        if len(seen) == 1:
            d.set("n", "10")    # someone else commits meanwhile
        await tx.write("n", str(v + 1))

    async def t(xs):
        await xs.transaction(body)
    _run(d, t)
    assert seen == [1, 10] and d.get("n") == b"11"


def test_transaction_gives_up_after_retries():
    d = _world()
    d.eagain_commits = 100

    async def body(tx):
        await tx.write("k", "v")

    async def t(xs):
        try:
            await xs.transaction(body, retries=3)
            return "committed"
        except X.Again:
            return "again"
    assert _run(d, t) == "again"
    assert d.get("k") is None


def test_transaction_aborted_by_exception():
    d = _world()

    async def body(tx):
        await tx.write("k", "v")
        raise KeyError("app error")

    async def t(xs):
        try:
            await xs.transaction(body)
        except KeyError:
            return "raised"
    assert _run(d, t) == "raised"
    assert d.get("k") is None and not d.txs


def test_get_domain_path():
    d = _world()

    async def t(xs):
        return await xs.get_domain_path(7)
    assert _run(d, t) == "/local/domain/7"
