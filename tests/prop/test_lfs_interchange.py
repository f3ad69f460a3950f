# littlefs interchange with the reference implementation (littlefs-python, which wraps
# the C library; CPython only): images made and filled by it are read by
# morgana.store.lfs, images written by ours are read by it, byte for byte.
# Geometry: block 4096 (8 blkfront sectors), read/prog 512 (one sector), cache 4096.
import os

from littlefs import LittleFS, UserContext

from morgana import sched
from morgana.store import lfs, blk_ram

BS = 4096
COUNT = 2048                    # 8 MiB


def ref(buf, mount=True):
    return LittleFS(context=UserContext(buffer=buf), block_size=BS, block_count=len(buf) // BS,
                    read_size=512, prog_size=512, cache_size=BS, lookahead_size=64,
                    mount=mount)


def tree():
    t = {}
    t["big"] = os.urandom(4 << 20)
    t["mid/half.bin"] = os.urandom(300000)
    for i in range(1000):
        t["many/f%04d.txt" % i] = os.urandom(i % 200)
    t["n1/n2/n3/n4/deep"] = b"deep down"
    t["n1/inline"] = b"x" * 500
    t["n1/edge"] = os.urandom(BS - 8)
    t["empty"] = b""
    return t


def dirs_of(t):
    out = set()
    for p in t:
        parts = p.split("/")
        for i in range(1, len(parts)):
            out.add("/".join(parts[:i]))
    return sorted(out)


async def read_ours(dev):
    fs = await lfs.mount(dev, read_only=True)
    out = {}

    async def walk(path):
        for s in await fs.scandir(path or "/"):
            p = s.name if not path else path + "/" + s.name
            if s.type == "dir":
                await walk(p)
            else:
                f = await fs.open(p, "rb")
                out[p] = await f.read()
                assert len(out[p]) == s.size
    await walk("")
    return out


def read_ref(fs):
    out = {}
    for top, dirs, files in fs.walk("/"):
        for n in files:
            p = (top.rstrip("/") + "/" + n).lstrip("/")
            with fs.open(p, "rb") as f:
                out[p] = f.read()
    return out


def test_reference_image_read_by_us():
    t = tree()
    buf = bytearray(b"\xff" * (BS * COUNT))
    fs = ref(buf, mount=False)
    fs.format()
    fs.mount()
    for d in dirs_of(t):
        fs.mkdir(d)
    for p, data in t.items():
        with fs.open(p, "wb") as f:
            f.write(data)
    fs.rename("n1/edge", "mid/edge")            # a move between metadata pairs
    t["mid/edge"] = t.pop("n1/edge")
    fs.remove("many/f0007.txt")
    del t["many/f0007.txt"]
    fs.unmount()
    got = sched.run(read_ours(blk_ram.BlockRAM(data=buf)))
    assert sorted(got) == sorted(t)
    for p in t:
        assert got[p] == t[p], p


def test_our_image_read_by_reference():
    t = tree()
    dev = blk_ram.BlockRAM(sectors=BS * COUNT // 512)

    async def go():
        await lfs.format(dev, block_size=BS)
        fs = await lfs.mount(dev)
        for d in dirs_of(t):
            await fs.mkdir(d)
        for p, data in t.items():
            f = await fs.open(p, "wb")
            for k in range(0, len(data), 65536):
                await f.write(data[k:k + 65536])
            await f.close()
        await fs.rename("n1/edge", "mid/edge")
        await fs.remove("many/f0007.txt")
    sched.run(go())
    t["mid/edge"] = t.pop("n1/edge")
    del t["many/f0007.txt"]
    buf = bytearray(dev.image())
    fs = ref(buf)
    got = read_ref(fs)
    assert sorted(got) == sorted(t)
    for p in t:
        assert got[p] == t[p], p
    with fs.open("many/f0001.txt", "ab") as f:    # and it can go on writing to it
        f.write(b"more")
    fs.mkdir("newdir")
    fs.unmount()
    t["many/f0001.txt"] += b"more"
    got = sched.run(read_ours(blk_ram.BlockRAM(data=buf)))
    assert sorted(got) == sorted(t) and all(got[p] == t[p] for p in t)


def test_names_with_shared_prefixes_in_split_directories():
    # littlefs finds a name by its order in the pair (the longer of two names with a
    # common prefix first) and stops at the first greater one: names we insert in any
    # order, across pairs split by their number, must all be found by the reference, and
    # names it adds must be found by us
    import random
    rng = random.Random(5)
    for seed in range(3):
        names = sorted(set("".join(rng.choice("ab1") for _ in range(rng.randint(1, 7)))
                           for _ in range(300)))
        rng.shuffle(names)
        dev = blk_ram.BlockRAM(sectors=BS * 256 // 512)

        async def go():
            await lfs.format(dev, block_size=BS)
            fs = await lfs.mount(dev)
            await fs.mkdir("d")
            for n in names:
                f = await fs.open("d/" + n, "wb")
                await f.write(n.encode() * 3)
                await f.close()
            for n in names[:20]:
                await fs.rename("d/" + n, "d/" + n + "r")
        sched.run(go())
        want = dict((n, n.encode() * 3) for n in names[20:])
        want.update((n + "r", n.encode() * 3) for n in names[:20])
        buf = bytearray(dev.image())
        fs = ref(buf)
        for n, data in want.items():
            with fs.open("d/" + n, "rb") as f:
                assert f.read() == data, n
        extra = ["%sx%d" % (n, seed) for n in names[:30]] + ["1", "11", "111b"]
        for n in extra:
            if n not in want:
                with fs.open("d/" + n, "wb") as f:
                    f.write(b"ref")
                want[n] = b"ref"
        fs.unmount()
        got = sched.run(read_ours(blk_ram.BlockRAM(data=buf)))
        assert got == dict(("d/" + n, v) for n, v in want.items()), seed
