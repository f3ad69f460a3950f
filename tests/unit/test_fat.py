# Reading FAT16/FAT32 volumes (images from test_fat_image's writer): BPB, chains, long
# and short names, timestamps, kv_fat, and the HTTP server on top of it.
from morgana import sched
from morgana.store import fat
from morgana.store import kv_fat
from morgana.http import files as http
from test_fat_image import Image, STAMP_EPOCH
from test_http_fakes import serve, parse_responses

BIG = bytes((i * 31 + (i >> 9)) & 255 for i in range(50000))
FILES = {
    "index.html": b"<h1>home</h1>\n",
    "css/style.css": b"body{margin:0}\n" * 50,
    "img/big.bin": BIG,
    "Sub Dir/\u00dcn\u00efcode \U0001F600 name.txt": b"unicode",
    "a/b/c/d/deep.txt": b"deep",
    "README": b"readme",
    "UP.TXT": b"upper",
    "empty.txt": b"",
    "a very long file name that needs several LFN entries.html": b"long",
}


def _run(coro):
    return sched.run(coro)


def _kv(img):
    return _run(kv_fat.open_kv(img.dev))


def test_volume_geometry_fat16_and_fat32():
    for bits in (16, 32):
        img = Image(FILES, bits)
        vol = _run(fat.mount(img.dev))
        assert vol.bits == bits
        assert vol.cluster_size == img.cs
        assert vol.data_off == img.data_off
        assert vol.max_cluster == (img.total - img.data_off // 512) // img.spc + 1


def test_every_file_reads_back_fat16_fat32_fragmented():
    for bits in (16, 32):
        for frag in (False, True):
            kv = _kv(Image(FILES, bits, fragment=frag))
            assert kv.names() == sorted(FILES)

            async def check():
                for n in FILES:
                    assert await kv.size(n) == len(FILES[n]), n
                    assert await kv.read(n) == FILES[n], (bits, frag, n)
                    assert kv.mtime(n) == STAMP_EPOCH

            _run(check())


def test_partial_reads_cross_cluster_and_extent_boundaries():
    kv = _kv(Image(FILES, 16, fragment=True))      # 2048-byte clusters, none adjacent

    async def check():
        for off, n in ((0, 1), (2047, 2), (2048, 2048), (100, 10000), (49990, 100),
                       (50000, 5), (60000, 1), (3, 0), (0, None), (49999, None)):
            want = BIG[off:] if n is None else BIG[off:off + n]
            assert await kv.read("img/big.bin", off, n) == want, (off, n)

    _run(check())


def test_case_insensitive_lookup_and_short_name_case_flags():
    kv = _kv(Image(FILES, 32))

    async def check():
        assert await kv.read("INDEX.HTML") == FILES["index.html"]
        assert await kv.read("css/STYLE.css") == FILES["css/style.css"]
        assert await kv.read("up.txt") == b"upper"
        assert await kv.size("nope.txt") is None
        assert kv.mtime("nope.txt") is None
        try:
            await kv.read("nope.txt")
        except KeyError:
            return
        raise AssertionError("missing file read")

    _run(check())
    # index.html is a lower-case 8.3 name: no LFN, the NT case flags give its case back
    assert "index.html" in kv.names() and "UP.TXT" in kv.names()


def test_without_lfn_entries_short_names_are_used():
    kv = _kv(Image({"x/long name here.txt": b"1", "ok.txt": b"2"}, 16, lfn=False))
    assert kv.names() == ["ok.txt", "x/LFN___~1.TXT"], kv.names()


def test_listdir_and_entry_kinds():
    img = Image(FILES, 16)
    vol = _run(fat.mount(img.dev))
    root = _run(vol.root())
    names = sorted(e.name for e in root)
    assert names == sorted(["index.html", "css", "img", "Sub Dir", "a", "README", "UP.TXT",
                            "empty.txt",
                            "a very long file name that needs several LFN entries.html"])
    d = [e for e in root if e.name == "css"][0]
    assert d.is_dir
    sub = _run(vol.listdir(d))
    assert [e.name for e in sub] == ["style.css"]
    try:
        _run(vol.read(d))
    except fat.FatError:
        pass
    else:
        raise AssertionError("read of a directory")


def test_fat_time_decoding():
    assert fat.fat_time(((2023 - 1980) << 9) | (11 << 5) | 14,
                        (22 << 11) | (13 << 5) | 10) == STAMP_EPOCH
    assert fat.fat_time((0 << 9) | (1 << 5) | 1, 0) == 315532800    # 1980-01-01
    assert fat.fat_time(0, 0) == 0                                   # month 0: unset
    assert fat.fat_time((1 << 5) | 1, 24 << 11) == 0                 # hour 24


def test_lfn_decoding_rules():
    assert fat._decode_lfn([0x41, 0xD83D, 0xDE00, 0]) == "A\U0001F600"
    assert fat._decode_lfn([0x41, 0xD83D, 0x41]) is None     # lone high surrogate
    assert fat._decode_lfn([0xDE00]) is None                  # lone low surrogate
    assert fat._decode_lfn([0x61, 0x2F, 0x62]) is None        # '/' in a name
    assert fat._decode_lfn([0x2E, 0x2E, 0]) is None           # '..'
    assert fat._decode_lfn([0]) is None


def test_http_serves_from_fat():
    kv = _kv(Image(FILES, 32))
    srv = http.Server(kv, chunk=4096)
    req = b"".join(b"GET /%s HTTP/1.1\r\nHost: t\r\n\r\n" % p for p in
                   (b"", b"img/big.bin", b"Sub%20Dir/%C3%9Cn%C3%AFcode%20%F0%9F%98%80%20name.txt",
                    b"css/style.css"))
    r = parse_responses(serve(srv, [req]).data())
    assert [x[0] for x in r] == [200, 200, 200, 200]
    assert r[0][2] == FILES["index.html"] and r[1][2] == BIG and r[2][2] == b"unicode"
    assert r[3][1]["content-type"] == "text/css; charset=utf-8"
    assert r[1][1]["last-modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"


def test_short_names_code_page_850_and_case_flags():
    assert fat.short_name(b"\x90       TXT", 0x08) == "\u00e9.TXT"      # 0x90 'É' lowered
    assert fat.short_name(b"\x90       TXT", 0x18) == "\u00e9.txt"
    assert fat.short_name(b"\x05BC     ", 0) == "\u00d5BC"              # 0x05 = real 0xE5
    assert fat.short_name(b"README     ", 0) == "README"
    assert fat.short_name(b"A B     C  ", 0x10) == "A B.c"


def test_lookup_folds_case_beyond_ascii_on_both_pythons():
    kv = _kv(Image({"caf\u00c9/\u00c5ngstr\u00f6m.txt": b"x"}, 16))

    async def check():
        return await kv.read("CAF\u00e9/\u00e5NGSTR\u00d6M.TXT")

    assert _run(check()) == b"x"
    assert fat.fold("\u00c9A\u00e9z\u4e2d") == "\u00e9a\u00e9z\u4e2d"
