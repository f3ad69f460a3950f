# blk_file: the block interface over a host file, bounds-checked; FAT on top of it.
import os
from morgana import sched
from morgana.store import blk_file
from morgana.store import kv_fat
from test_fat_image import Image

PATH = "/tmp/morgana-test-blkfile-%d.img" % os.getpid() if hasattr(os, "getpid") else \
    "/tmp/morgana-test-blkfile.img"


def _write(data):
    with open(PATH, "wb") as f:
        f.write(data)


def _raises(exc, coro_or_fn):
    try:
        if hasattr(coro_or_fn, "send"):
            sched.run(coro_or_fn)
        else:
            coro_or_fn()
    except exc as e:
        return e
    raise AssertionError("expected " + exc.__name__)


def test_reads_and_bounds():
    _write(bytes(range(256)) * 8)                      # 4 sectors
    b = blk_file.BlockFile(PATH)
    assert (b.sector_size, b.sectors, b.read_only) == (512, 4, True)
    assert sched.run(b.read(1, 2)) == (bytes(range(256)) * 4)
    _raises(ValueError, b.read(3, 2))
    _raises(ValueError, b.read(-1, 1))
    _raises(OSError, b.write(0, bytes(512)))
    b.close()
    os.remove(PATH)


def test_rejects_partial_sector_files_and_bad_sector_size():
    _write(b"x" * 700)
    _raises(ValueError, lambda: blk_file.BlockFile(PATH))
    _raises(ValueError, lambda: blk_file.BlockFile(PATH, sector_size=1000))
    os.remove(PATH)


def test_writable_file_round_trip():
    _write(bytes(1024))
    b = blk_file.BlockFile(PATH, read_only=False)

    async def go():
        await b.write(1, b"\x07" * 512)
        await b.flush()
        return await b.read(0, 2)

    assert sched.run(go()) == bytes(512) + b"\x07" * 512
    _raises(ValueError, b.write(0, b"short"))
    b.close()
    os.remove(PATH)


def test_fat_volume_from_a_file():
    img = Image({"x/y.txt": b"hello", "index.html": b"<p>"}, 16)
    zero = bytes(512)
    with open(PATH, "wb") as f:
        for s in range(img.total):
            f.write(img.dev.data.get(s, zero))
    b = blk_file.BlockFile(PATH)

    async def go():
        kv = await kv_fat.open_kv(b)
        return kv.names(), await kv.read("x/y.txt")

    assert sched.run(go()) == (["index.html", "x/y.txt"], b"hello")
    b.close()
    os.remove(PATH)


def test_flush_reaches_the_file():
    # flush = fsync(2): after it, another reader of the file sees the write (before it,
    # the bytes may sit in the writer's buffer)
    _write(bytes(2048))
    b = blk_file.BlockFile(PATH, read_only=False)

    async def go():
        await b.write(2, b"\x33" * 512)
        await b.flush()
        with open(PATH, "rb") as f:
            return f.read()[1024:1536], b.flushes

    data, n = sched.run(go())
    assert data == b"\x33" * 512 and n == 1
    b.close()
    os.remove(PATH)
