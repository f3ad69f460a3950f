# littlefs (morgana.store.lfs*) on a RAM device: encoding, files, directories, rename,
# splitting, remount, corrupt images. Portable: CPython (pytest) and MicroPython (mprun).
from morgana import sched
from morgana.store import lfs, blk_ram, kv_lfs
from morgana.store import lfs_disk as D


def run(coro):
    return sched.run(coro)


async def fresh(sectors=2048, block_size=4096):
    d = blk_ram.BlockRAM(sectors)
    await lfs.format(d, block_size=block_size)
    return d, await lfs.mount(d)


async def put(fs, path, data, mode="wb"):
    f = await fs.open(path, mode)
    await f.write(data)
    await f.close()


async def get(fs, path):
    f = await fs.open(path, "rb")
    x = await f.read()
    await f.close()
    return x


def pattern(n, seed=1):
    out = bytearray(n)
    x = seed
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0x7fffffff
        out[i] = (x >> 16) & 0xff
    return bytes(out)


def expect_oserror(code, coro):
    try:
        run(coro)
    except OSError as e:
        assert e.args[0] == code, e
        return
    assert False, "no OSError %d" % code


def test_crc_matches_reference():
    # lfs_crc(0xffffffff, b"123456789") is CRC-32's check value before inversion
    assert D.crc(0xffffffff, b"123456789") ^ 0xffffffff == 0xcbf43926
    assert D.crc(D.crc(0xffffffff, b"1234"), b"56789") == D.crc(0xffffffff, b"123456789")


def test_ctz_index_layout():
    bs = 512
    assert D.ctz_index(0, bs) == (0, 0)
    assert D.ctz_index(511, bs) == (0, 511)
    assert D.ctz_index(512, bs) == (1, 4)          # block 1 has one pointer
    assert D.ctz_index(512 + 507, bs) == (1, 511)
    assert D.ctz_index(512 + 508, bs) == (2, 8)    # block 2 has two
    for pos in (0, 1, 511, 512, 1019, 1020, 5000, 100000):
        i, o = D.ctz_index(pos, bs)
        assert D.ctz_start(i, bs) + o - 4 * D.ctz_npointers(i) == pos
        assert 4 * D.ctz_npointers(i) <= o < bs


def test_commit_roundtrip():
    bs = 4096
    buf = bytearray(b"\xa5" * bs)
    rev = b"\x07\x00\x00\x00"
    attrs = [(D.mktag(D.T_REG, 0, 3), b"abc"), (D.mktag(D.T_INLINESTRUCT, 0, 2), b"hi")]
    data, end, etag = D.encode_commit(4, attrs, 0xffffffff, D.crc(0xffffffff, rev), 512,
                                      lambda off: buf[off] if off < bs else None)
    assert end == 512 and len(data) == 508
    buf[0:4] = rev
    buf[4:end] = data
    r = D.parse_log(bytes(buf))
    assert r is not None
    assert r[0] == 7 and r[2] == 512 and r[3] == etag
    assert r[1] == [attrs]
    more = [(D.mktag(D.T_DELETE, 0, 0), b"")]
    data2, end2, etag2 = D.encode_commit(end, more, etag, 0xffffffff, 512,
                                         lambda off: buf[off] if off < bs else None)
    buf[end:end2] = data2
    r = D.parse_log(bytes(buf))
    assert r[1] == [attrs, more] and r[2] == 1024
    buf[end + 2] ^= 1                                 # a torn second commit is ignored
    r = D.parse_log(bytes(buf))
    assert r[1] == [attrs] and r[2] == 512


def test_files_inline_and_ctz_survive_remount():
    async def go():
        d, fs = await fresh()
        await put(fs, "small", b"tiny")
        big = pattern(70000)
        await put(fs, "big", big)
        await put(fs, "empty", b"")
        fs2 = await lfs.mount(d)
        assert await get(fs2, "small") == b"tiny"
        assert await get(fs2, "big") == big
        assert await get(fs2, "empty") == b""
        assert (await fs2.stat("big")).size == 70000
        assert await fs2.listdir("/") == ["big", "empty", "small"]
    run(go())


def test_overwrite_append_seek():
    async def go():
        d, fs = await fresh()
        base = pattern(20000)
        await put(fs, "f", base)
        f = await fs.open("f", "r+b")
        f.seek(5000)
        await f.write(b"X" * 10)
        f.seek(0)
        head = await f.read(5)
        await f.close()
        assert head == base[:5]
        want = base[:5000] + b"X" * 10 + base[5010:]
        assert await get(fs, "f") == want
        await put(fs, "f", b"tail", "ab")
        want += b"tail"
        assert await get(fs, "f") == want
        f = await fs.open("f", "r+b")          # write past the end leaves zeros
        f.seek(len(want) + 3)
        await f.write(b"!")
        await f.close()
        want += b"\0\0\0!"
        assert await get(await lfs.mount(d), "f") == want
        await put(fs, "g", b"a" * 300)          # inline grows into a CTZ file
        await put(fs, "g", b"b" * 700, "ab")
        assert await get(fs, "g") == b"a" * 300 + b"b" * 700
    run(go())


def test_unsynced_write_is_invisible_and_old_content_stays():
    async def go():
        d, fs = await fresh()
        await put(fs, "f", b"old" * 1000)
        f = await fs.open("f", "wb")
        await f.write(b"new" * 2000)
        fs2 = await lfs.mount(blk_ram.BlockRAM(data=d.image()))   # power cut now
        assert await get(fs2, "f") == b"old" * 1000
        f2 = await fs.open("n", "wb")
        await f2.write(b"x")
        assert "n" not in await fs.listdir("/")   # a new file appears at its first sync
        await f.close()
        await f2.close()
        assert await get(fs, "f") == b"new" * 2000
        assert await get(fs, "n") == b"x"
    run(go())


def test_directories_and_errors():
    async def go():
        d, fs = await fresh()
        await fs.mkdir("a")
        await fs.mkdir("a/b")
        await put(fs, "a/b/c", b"deep")
        assert await fs.listdir("a") == ["b"]
        assert (await fs.stat("a/b")).type == "dir"
        for code, c in ((17, fs.mkdir("a")), (2, fs.open("nope")), (2, fs.mkdir("x/y")),
                        (39, fs.remove("a")), (21, fs.open("a", "w")),
                        (20, fs.open("a/b/c/d", "w")), (17, fs.open("a/b/c", "x"))):
            try:
                await c
                assert False, "no error %d" % code
            except OSError as e:
                assert e.args[0] == code, (code, e)
        await fs.remove("a/b/c")
        await fs.remove("a/b")
        await fs.remove("a")
        assert await fs.listdir("/") == []
        fs2 = await lfs.mount(d)
        assert await fs2.listdir("/") == []
        assert len(await fs2.walk_pairs()) == 1   # removed dirs left the tail list
    run(go())


def test_rename_same_dir_across_dirs_and_replace():
    async def go():
        d, fs = await fresh()
        await fs.mkdir("d1")
        await fs.mkdir("d2")
        await put(fs, "d1/a", b"A" * 5000)
        await put(fs, "d1/z", b"Z")
        await fs.rename("d1/a", "d1/m")
        assert await fs.listdir("d1") == ["m", "z"]
        await fs.rename("d1/m", "d2/k")
        await fs.rename("d1/z", "d2/k2")
        await put(fs, "d2/old", b"old")
        await fs.rename("d2/k2", "d2/old")       # replaces the file
        await fs.rename("d2", "d3")
        fs2 = await lfs.mount(d)
        assert await fs2.listdir("/") == ["d1", "d3"]
        assert await fs2.listdir("d3") == ["k", "old"]
        assert await get(fs2, "d3/k") == b"A" * 5000
        assert await get(fs2, "d3/old") == b"Z"
        assert fs2.gstate == D.GZERO
        try:
            await fs2.rename("d3", "d3/k/x")
            assert False
        except OSError as e:
            assert e.args[0] == 22
        await fs2.mkdir("e")
        await fs2.rename("d1", "e")               # onto an empty directory
        assert await fs2.listdir("/") == ["d3", "e"]
        assert len(await fs2.walk_pairs()) == 3
    run(go())


def test_many_files_split_pairs():
    async def go():
        d, fs = await fresh(sectors=4096, block_size=512)
        names = ["f%03d" % i for i in range(120)]
        for i, n in enumerate(names):
            await put(fs, n, pattern(20 + i % 40, i))
        fs2 = await lfs.mount(d)
        assert await fs2.listdir("/") == names
        assert len(await fs2.chain((0, 1))) > 3
        for i, n in enumerate(names):
            assert await get(fs2, n) == pattern(20 + i % 40, i)
        for n in names[::2]:
            await fs2.remove(n)
        fs3 = await lfs.mount(d)
        assert await fs3.listdir("/") == names[1::2]
    run(go())


def test_space_is_reused():
    async def go():
        d, fs = await fresh(sectors=512)            # 64 blocks of 4 KiB
        for i in range(40):
            await put(fs, "f", pattern(100000, i))  # 25 blocks a time
        assert await get(fs, "f") == pattern(100000, 39)
        try:
            await put(fs, "g", pattern(300000))
            assert False
        except OSError as e:
            assert e.args[0] == 28
        assert await get(await lfs.mount(d), "f") == pattern(100000, 39)
    run(go())


def test_bad_images_fail_mount_with_lfserror():
    async def go():
        for img in (bytes(512 * 64), b"\xff" * (512 * 64)):
            try:
                await lfs.mount(blk_ram.BlockRAM(data=img))
                assert False
            except D.LfsError as e:
                assert "no valid commit" in str(e) or "superblock" in str(e), e
        d, fs = await fresh()
        img = bytearray(d.image())
        img[8:16] = b"notlittl"
        try:
            await lfs.mount(blk_ram.BlockRAM(data=img))
            assert False
        except D.LfsError:
            pass
    run(go())


def test_read_only_mount_refuses_writes():
    async def go():
        d, fs = await fresh()
        await put(fs, "f", b"x")
        ro = await lfs.mount(d, read_only=True)
        assert await get(ro, "f") == b"x"
        for c in (ro.open("f", "w"), ro.mkdir("d"), ro.remove("f")):
            try:
                await c
                assert False
            except OSError as e:
                assert e.args[0] == 30
    run(go())


def test_kv_face():
    async def go():
        d, fs = await fresh()
        kv = await kv_lfs.open_kv(d)
        await kv.put("index.html", b"<h1>hi</h1>")
        await kv.put("css/site.css", b"body{}")
        await kv.put("a/b/c.txt", pattern(9000))
        assert await kv.get("missing") is None
        assert await kv.list() == ["a/b/c.txt", "css/site.css", "index.html"]
        assert await kv.delete("css/site.css") and not await kv.delete("css/site.css")
        kv2 = await kv_lfs.open_kv(d, read_only=True)
        assert kv2.names() == ["a/b/c.txt", "index.html"]
        assert await kv2.size("a/b/c.txt") == 9000
        assert await kv2.read("a/b/c.txt", 100, 10) == pattern(9000)[100:110]
        assert kv2.mtime("index.html") is None
    run(go())


def test_on_a_host_file_via_blk_file():
    from morgana.store import blk_file
    path = "/tmp/morgana-test-lfs.img"
    with open(path, "wb") as f:
        f.write(bytes(512 * 256))

    async def go():
        dev = blk_file.BlockFile(path, read_only=False)
        await lfs.format(dev)
        fs = await lfs.mount(dev)
        await put(fs, "y", pattern(10000))
        dev.close()
        dev = blk_file.BlockFile(path)
        fs = await lfs.mount(dev)
        assert fs.read_only and await get(fs, "y") == pattern(10000)
        dev.close()
    run(go())


def test_names_in_littlefs_order():
    # littlefs's lookup order (lfs_dir_find_match): bytes over the shorter length, then
    # the longer name first; entries are kept in it, so "k10" and "k15" are stored before "k1"
    from morgana.store.lfs_mdir import sorts_after
    assert sorts_after(b"k2", b"k15") and sorts_after(b"k1", b"k15")
    assert not sorts_after(b"k15", b"k1") and not sorts_after(b"a", b"a")
    assert sorts_after(b"b", b"abc") and not sorts_after(b"abc", b"b")
    dev = blk_ram.BlockRAM(sectors=64 * 8)

    async def go():
        await lfs.format(dev)
        fs = await lfs.mount(dev)
        for n in ("k1", "k2", "k15", "k", "k10", "a"):
            f = await fs.open(n, "w")
            await f.close()
        md = await fs.get(fs.root)
        return [e.name for e in md.state.entries if e.typ != D.T_SUPERBLOCK]
    assert sched.run(go()) == [b"a", b"k10", b"k15", b"k1", b"k2", b"k"]
