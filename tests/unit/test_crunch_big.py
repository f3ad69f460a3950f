# Big files in the crunch store: crunch splits a file over CHUNK bytes into CHUNK-byte
# constants, kv_crunch serves it whole again (slices within a chunk are views of it, no
# copy); a site too big for the guest is refused by name and size.
from morgana import sched
from morgana.host import crunch
from morgana.store import kv_crunch

C = crunch.CHUNK


def _pattern(n, seed):
    return bytes(((i * 7 + seed) ^ (i >> 8)) & 255 for i in range(n))


BIG = _pattern(3 * C + 5, 1)
ENTRIES = [("a/exact.bin", 1, _pattern(C, 2)),
           ("a/one-more.bin", 2, _pattern(C + 1, 3)),
           ("big.bin", 3, BIG),
           ("small.txt", 4, b"hello\n")]


def _files():
    ns = {}
    exec(crunch.module_source(ENTRIES, "t/"), ns)
    return ns["FILES"]


def test_big_files_are_split_into_chunk_constants():
    files = _files()
    assert isinstance(files["small.txt"][2], bytes)
    assert isinstance(files["a/exact.bin"][2], bytes)        # CHUNK bytes: still one
    parts = files["big.bin"][2]
    assert isinstance(parts, tuple) and [len(p) for p in parts] == [C, C, C, 5]
    assert b"".join(parts) == BIG
    one = files["a/one-more.bin"][2]
    assert [len(p) for p in one] == [C, 1]
    assert files["big.bin"][:2] == (3, "application/octet-stream")


def test_kv_serves_split_files_whole():
    kv = kv_crunch.KV(_files())

    async def main():
        assert await kv.size("big.bin") == len(BIG)
        assert await kv.size("a/one-more.bin") == C + 1
        assert await kv.read("big.bin") == BIG
        for off, n in ((0, 10), (C - 3, 6), (C, C), (C - 1, 2 * C + 2), (3 * C, 5),
                       (3 * C + 4, 100), (len(BIG), 1), (5, None)):
            got = await kv.read("big.bin", off, n)
            want = BIG[off:] if n is None else BIG[off:off + n]
            assert got == want, (off, n)
            assert isinstance(got, bytes)
        assert await kv.read("a/one-more.bin", C, 1) == ENTRIES[1][2][C:]
    sched.run(main())


def test_chunks_view_slices_like_a_memoryview():
    v = kv_crunch.KV(_files()).view("big.bin")
    assert len(v) == len(BIG)
    # what the HTTP server asks for when it sends the whole file: one chunk per write,
    # each a view of a frozen constant
    for i in range(4):
        s = v[i * C:(i + 1) * C]
        assert isinstance(s, memoryview) and bytes(s) == BIG[i * C:(i + 1) * C]
    across = v[C - 2:C + 2]
    assert not isinstance(across, memoryview) and bytes(across) == BIG[C - 2:C + 2]
    assert bytes(v[-5:]) == BIG[-5:] and bytes(v[:3]) == BIG[:3]
    assert bytes(v[10:5]) == b"" and bytes(v[len(BIG) + 9:]) == b""
    assert v[C] == BIG[C] and v[-1] == BIG[-1]
    assert bytes(v[0:len(BIG)]) == BIG
    for bad in (len(BIG), -len(BIG) - 1):
        try:
            v[bad]
        except IndexError:
            continue
        raise AssertionError("index %d accepted" % bad)


def test_malformed_chunk_tables_refused():
    for data in ((b"ab",), (b"ab", b"abc"), (b"abc", b"a", b"ab"), (b"ab", b""),
                 (b"ab", "cd"), [b"ab", b"c"]):
        try:
            kv_crunch.KV({"f": (1, "t", data)})
        except ValueError:
            continue
        raise AssertionError("accepted %r" % (data,))
    kv_crunch.KV({"f": (1, "t", (b"ab", b"cd", b"e"))})


def test_a_site_too_big_for_the_guest_is_refused_by_name():
    files = [("index.html", 1000), ("video/intro.webm", 20 << 20), ("img/a.png", 50000)]
    try:
        crunch.check_fits(files, 32)
    except ValueError as e:
        msg = str(e)
    else:
        raise AssertionError("a 20 MiB site fitted a 32 MiB guest")
    assert "video/intro.webm (20971520 bytes)" in msg, msg
    assert msg.index("video/intro.webm") < msg.index("img/a.png"), msg   # largest first
    assert "32 MiB guest" in msg and "FS=fat" in msg and "MEM=41" in msg, msg
    assert crunch.check_fits(files, 48) == 20 * 1048576 + 51000
    assert crunch.check_fits([], 4) == 0
