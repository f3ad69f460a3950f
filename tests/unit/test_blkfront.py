# blkfront against the fake blkback: geometry, read/write/flush, several requests in
# flight, several disks, range checks, close.
import fake_xen
from fake_xenstored import FakeXenstored
from fake_blkback import FakeBlkback
from morgana import sched
from morgana.xen import xenstore as X
from morgana.xen import ring as R
import blkfront


_BASE = bytes(range(256)) * 3


def _pattern(n, seed):
    """n bytes, every 512-byte sector different (a rotation chosen by seed and index)."""
    parts = []
    for k in range((n + 511) // 512):
        s = (seed * 7 + k * 13) & 255
        parts.append(_BASE[s:s + 512])
    return b"".join(parts)[:n]


def _run(body, disks=((51712, {}),), **bfkw):
    fake_xen.reset()
    R.log = lambda m: None
    d = FakeXenstored()
    bbs = [FakeBlkback(d, devid, **kw) for (devid, kw) in disks]

    async def main():
        xs = X.Xenstore(fake_xen.store_page(), fake_xen.start_info()["store_evtchn"])
        try:
            return await body(xs, d, bbs)
        finally:
            xs.close()
    return fake_xen.run(main())


def test_geometry_and_handshake():
    async def body(xs, d, bbs):
        disk = await blkfront.connect(51712, xs, seg_pages=16)
        return (disk.sector_size, disk.sectors, disk.read_only, disk.flush_op,
                bbs[0].states, d.get(bbs[0].front + "/state"))
    ss, n, ro, fl, states, fstate = _run(body)
    assert (ss, n, ro, fl) == (512, 1024, False, blkfront.OP_FLUSH_DISKCACHE)
    assert states == [3, 4] and fstate == b"4"


def test_reads_what_dom0_wrote():
    async def body(xs, d, bbs):
        bbs[0].write_sectors(10, _pattern(3 * 512, 1))
        disk = await blkfront.connect(51712, xs, seg_pages=16)
        return await disk.read(10, 3), await disk.read(11, 1)
    a, b = _run(body)
    assert a == _pattern(3 * 512, 1) and b == _pattern(3 * 512, 1)[512:1024]


def test_write_then_dom0_reads_back():
    async def body(xs, d, bbs):
        disk = await blkfront.connect(51712, xs, seg_pages=16)
        await disk.write(100, _pattern(5 * 512, 2))
        await disk.flush()
        return bbs[0].read_sectors(100, 5), bbs[0].flushes, disk.stats
    data, flushes, st = _run(body)
    assert data == _pattern(5 * 512, 2) and flushes == 1
    assert st["writes"] == 1 and st["write_bytes"] == 2560 and st["flushes"] == 1


def test_large_transfer_splits_into_concurrent_requests():
    n = 200                                 # 100 KiB: 3 requests of <= 11 pages
    async def body(xs, d, bbs):
        disk = await blkfront.connect(51712, xs, seg_pages=33)
        data = _pattern(n * 512, 3)
        await disk.write(7, data)
        back = await disk.read(7, n)
        return data, back, bbs[0].read_sectors(7, n), bbs[0].ops, bbs[0].max_seen_inflight
    data, back, on_disk, ops, inflight = _run(body)
    assert back == data and on_disk == data
    writes = [o for o in ops if o[0] == 1]
    assert len(writes) == 3 and [o[2] for o in writes] == [11, 11, 3]
    assert [o[1] for o in writes] == [7 + 88 * k for k in range(3)]
    assert inflight >= 3                    # all three were on the ring together


def test_pool_limits_inflight_and_waits():
    async def body(xs, d, bbs):
        disk = await blkfront.connect(51712, xs, seg_pages=11)
        data = _pattern(150 * 512, 4)
        await disk.write(0, data)
        return await disk.read(0, 150) == data, disk.stats["waits"] > 0, bbs[0].max_seen_inflight
    same, waited, inflight = _run(body)
    assert same and waited and inflight == 1


def test_concurrent_callers_several_in_flight():
    async def body(xs, d, bbs):
        disk = await blkfront.connect(51712, xs, seg_pages=32)
        bbs[0].hold = True
        ts = [sched.spawn(disk.write(k * 8, _pattern(4096, k))) for k in range(6)]
        await sched.sleep(0.01)
        held = len(bbs[0].held)
        bbs[0].hold = False
        bbs[0].release()
        await sched.join(ts)
        ok = True
        for k in range(6):
            ok = ok and await disk.read(k * 8, 8) == _pattern(4096, k)
        return held, ok
    held, ok = _run(body)
    assert held == 6 and ok


def test_range_and_size_checks():
    async def body(xs, d, bbs):
        disk = await blkfront.connect(51712, xs, seg_pages=16)
        out = []
        for coro in (disk.read(1023, 2), disk.read(-1, 1), disk.read(0, 0),
                     disk.write(0, b"x" * 100), disk.write(1024, bytes(512))):
            try:
                await coro
                out.append("ok")
            except ValueError:
                out.append("refused")
        out.append(len(await disk.read(1023, 1)))
        return out, len(bbs[0].ops)
    out, ops = _run(body)
    assert out == ["refused"] * 5 + [512] and ops == 1


def test_io_error_reported():
    async def body(xs, d, bbs):
        bbs[0].error_sectors.add(33)
        disk = await blkfront.connect(51712, xs, seg_pages=16)
        try:
            await disk.read(33, 1)
            r = "ok"
        except blkfront.BlockError:
            r = "error"
        return r, await disk.read(34, 1) == bytes(512), disk.stats["errors"]
    assert _run(body) == ("error", True, 1)


def test_read_only_disk_refuses_writes():
    async def body(xs, d, bbs):
        disk = await blkfront.connect(51712, xs, seg_pages=16)
        try:
            await disk.write(0, bytes(512))
            return disk.read_only, "written"
        except blkfront.BlockError:
            return disk.read_only, "refused"
    assert _run(body, disks=((51712, {"info": 4}),)) == (True, "refused")


def test_no_flush_feature_is_noop():
    async def body(xs, d, bbs):
        disk = await blkfront.connect(51712, xs, seg_pages=16)
        await disk.flush()
        return disk.flush_op, bbs[0].flushes, len(bbs[0].ops)
    assert _run(body, disks=((51712, {"flush": False}),)) == (None, 0, 0)


def test_4k_sector_disk():
    async def body(xs, d, bbs):
        disk = await blkfront.connect(51712, xs, seg_pages=16)
        await disk.write(3, _pattern(8192, 5))
        return disk.sector_size, disk.sectors, bbs[0].read_sectors(3, 2), bbs[0].ops[0]
    ss, n, data, op = _run(body, disks=((51712, {"sector_size": 4096, "sectors": 64}),))
    assert (ss, n) == (4096, 64) and data == _pattern(8192, 5)
    assert op == (1, 24, 2)                 # 512-byte units on the wire


def test_several_disks():
    async def body(xs, d, bbs):
        disks = await blkfront.connect_all(xs, seg_pages=11)
        for i, dk in enumerate(disks):
            await dk.write(0, _pattern(512, 40 + i))
        return [dk.devid for dk in disks], [bb.read_sectors(0, 1) for bb in bbs], [dk.sectors for dk in disks]
    ids, data, sizes = _run(body, disks=((51712, {}), (51728, {"sectors": 100})))
    assert ids == [51712, 51728] and sizes == [1024, 100]
    assert data == [_pattern(512, 40), _pattern(512, 41)]


def test_close_returns_grants():
    async def body(xs, d, bbs):
        before = fake_xen.grants_live()
        disk = await blkfront.connect(51712, xs, seg_pages=16)
        await disk.write(0, bytes(4096))
        ok = await disk.close()
        return before, fake_xen.grants_live(), ok, bbs[0].states
    before, after, ok, states = _run(body)
    assert before == after and ok and states == [3, 4, 5, 6]


def test_barrier_when_no_flush_cache():
    async def body(xs, d, bbs):
        disk = await blkfront.connect(51712, xs, seg_pages=16)
        await disk.write(0, bytes(512))
        await disk.flush()
        return disk.flush_op, bbs[0].barriers, bbs[0].flushes, bbs[0].ops[-1]
    op, barriers, flushes, last = _run(body, disks=((51712, {"flush": False, "barrier": True}),))
    assert op == blkfront.OP_WRITE_BARRIER and (barriers, flushes) == (1, 0)
    assert last == (blkfront.OP_WRITE_BARRIER, 0, 0)


def test_flush_cache_preferred_over_barrier():
    async def body(xs, d, bbs):
        disk = await blkfront.connect(51712, xs, seg_pages=16)
        await disk.flush()
        await disk.flush()
        return disk.flush_op, bbs[0].barriers, bbs[0].flushes, disk.stats["flushes"]
    assert _run(body, disks=((51712, {"barrier": True}),)) == (blkfront.OP_FLUSH_DISKCACHE, 0, 2, 2)


def test_flush_unsupported_at_run_time_becomes_noop():
    async def body(xs, d, bbs):
        disk = await blkfront.connect(51712, xs, seg_pages=16)
        bbs[0].flush = False            # advertised, then refused with EOPNOTSUPP
        await disk.flush()
        n = len(bbs[0].ops)
        await disk.flush()
        return disk.flush_op, n, len(bbs[0].ops)
    assert _run(body) == (None, 1, 1)


def test_read_only_error_names_the_disk():
    async def body(xs, d, bbs):
        disk = await blkfront.connect(51712, xs, seg_pages=16)
        try:
            await disk.write(0, bytes(512))
        except blkfront.ReadOnly as e:
            return str(e), len(bbs[0].ops)
    msg, ops = _run(body, disks=((51712, {"info": 4}),))
    assert "read-only" in msg and "vbd51712" in msg and ops == 0


def test_vanished_disk_fails_inflight_and_later_requests():
    async def body(xs, d, bbs):
        disk = await blkfront.connect(51712, xs, seg_pages=16)
        await disk.write(0, bytes(512))
        bbs[0].hold = True
        t = sched.spawn(disk.read(0, 8))
        await sched.sleep(0.01)
        bbs[0].vanish()
        out = []
        for aw in (t, disk.read(0, 1), disk.write(0, bytes(512)), disk.flush()):
            try:
                await sched.with_timeout(1.0, aw)
                out.append("ok")
            except blkfront.DiskGone as e:
                out.append("gone" if "vanished" in str(e) else str(e))
            except sched.Timeout:
                out.append("hung")
        return out
    assert _run(body) == ["gone"] * 4
