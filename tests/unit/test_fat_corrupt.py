# Corrupt FAT images: each must fail with a FatError naming the problem, never read
# outside the device, loop, or crash with an unrelated exception.
import struct
from morgana import sched
from morgana.store import fat
from morgana.store import kv_fat
from test_fat_image import Image, SparseBlock

FILES = {"index.html": b"<h1>x</h1>", "d/f.bin": bytes(range(256)) * 20, "d/e/g.txt": b"g"}


def _fails(img_or_dev, what, op=None):
    dev = getattr(img_or_dev, "dev", img_or_dev)

    async def go():
        kv = await kv_fat.open_kv(dev)
        if op is not None:
            await op(kv)

    try:
        sched.run(go())
    except fat.FatError as e:
        assert what in str(e), "expected %r in %r" % (what, str(e))
        return
    raise AssertionError("corruption not detected: " + what)


def _bpb(img, fmt, off, value):
    b = bytearray(img.dev.get(0, 512))
    struct.pack_into(fmt, b, off, value)
    img.dev.put(0, b)
    return img


def test_boot_sector_checks():
    img = Image(FILES)
    img.dev.put(510, b"\x00\x00")
    _fails(img, "signature")
    _fails(_bpb(Image(FILES), "<H", 11, 333), "bytes per sector")
    _fails(_bpb(Image(FILES), "<B", 13, 3), "sectors per cluster")
    _fails(_bpb(Image(FILES), "<B", 13, 0), "sectors per cluster")
    _fails(_bpb(Image(FILES), "<H", 14, 0), "reserved")
    _fails(_bpb(Image(FILES), "<B", 16, 0), "number of FATs")
    _fails(_bpb(Image(FILES), "<H", 22, 0), "FAT")                 # no FAT size at all
    _fails(_bpb(Image(FILES), "<H", 19, 60), "no data area")
    _fails(_bpb(Image(FILES), "<H", 17, 0), "root directory region")
    _fails(_bpb(Image(FILES), "<H", 22, 1), "too small")           # FAT can't map clusters
    _fails(_bpb(Image(FILES, 32), "<I", 44, 1), "root cluster")
    _fails(_bpb(Image(FILES, 32), "<I", 44, 10 ** 9), "root cluster")
    _fails(_bpb(Image(FILES, 32), "<H", 42, 1), "version")


def test_filesystem_larger_than_device():
    img = Image(FILES)
    img.dev.sectors -= 1
    _fails(img, "larger than the device")


def test_tiny_devices():
    _fails(SparseBlock(0), "too small")
    _fails(SparseBlock(1), "signature")


def test_fat12_refused():
    img = Image(FILES)
    _bpb(img, "<H", 19, img.total - 4 * 4500)    # leaves < 4085 clusters
    img.dev.sectors = img.total
    _fails(img, "FAT12")


def test_directory_chain_loop():
    img = Image(FILES)
    cl = img.first_cluster("d")
    img.set_fat(cl, cl)                            # d's single cluster points at itself
    _fails(img, "loop")


def test_fat32_root_chain_loop():
    img = Image(FILES, 32)
    img.set_fat(img.root_cluster, img.root_cluster)
    _fails(img, "loop")


def test_subdirectory_pointing_at_its_parent():
    img = Image(FILES)
    off = img.entry_off("d/e")
    img.dev.put(off + 26, struct.pack("<H", img.first_cluster("d")))
    _fails(img, "loops back")


def test_file_chain_out_of_range_free_bad_short():
    async def read_f(kv):
        await kv.read("d/f.bin")

    for value, what in ((0xFFF0, "outside the volume"), (0, "free cluster"),
                        (0xFFF7, "bad cluster"), (0xFFFF, "chain of 1 clusters")):
        img = Image(FILES)
        img.set_fat(img.first_cluster("d/f.bin"), value)
        _fails(img, what, read_f)


def test_file_first_cluster_out_of_range():
    async def read_f(kv):
        await kv.read("d/f.bin")

    for cl, what in ((1, "outside the volume"), (0, "no clusters"), (60000, "outside")):
        img = Image(FILES)
        img.dev.put(img.entry_off("d/f.bin") + 26, struct.pack("<H", cl))
        _fails(img, what, read_f)


def test_huge_size_with_short_chain():
    async def read_f(kv):
        await kv.read("d/f.bin", 10 ** 9, 10)

    img = Image(FILES)
    img.dev.put(img.entry_off("d/f.bin") + 28, struct.pack("<I", 0xFFFFFFFF))
    _fails(img, "chain of", read_f)


def test_bad_lfn_checksum_falls_back_to_short_name():
    files = {"a long name.txt": b"1"}
    img = Image(files)
    off = img.entry_off("a long name.txt")
    img.dev.put(off - 32 + 13, b"\x00")            # checksum byte of the LFN entry

    async def go():
        return (await kv_fat.open_kv(img.dev)).names()

    assert sched.run(go()) == ["LFN___~1.TXT"]


def test_device_read_errors_propagate_as_oserror():
    class Broken(SparseBlock):
        async def read(self, sector, count):
            raise OSError("I/O error")

    try:
        sched.run(kv_fat.open_kv(Broken(100)))
    except OSError as e:
        assert "I/O" in str(e)
        return
    raise AssertionError("device error swallowed")


def test_not_a_block_device():
    try:
        sched.run(fat.mount(object()))
    except TypeError:
        return
    raise AssertionError("accepted a non-device")


class _Shifted(SparseBlock):
    # a disk with an MBR at sector 0 and the volume of img starting at sector `at`
    def __init__(self, img, at, ptype=0x0E, count=None):
        SparseBlock.__init__(self, img.total + at)
        for s in img.dev.data:
            self.data[s + at] = img.dev.data[s]
        mbr = bytearray(512)
        mbr[446 + 16 + 4] = ptype                     # second partition slot
        struct.pack_into("<II", mbr, 446 + 16 + 8, at, img.total if count is None else count)
        mbr[510], mbr[511] = 0x55, 0xAA
        self.data[0] = bytes(mbr)


def test_mbr_partitioned_disk():
    img = Image(FILES, 32)

    async def go():
        kv = await kv_fat.open_kv(_Shifted(img, 2048, 0x0C))
        return kv.names(), await kv.read("d/f.bin")

    names, data = sched.run(go())
    assert names == sorted(FILES) and data == FILES["d/f.bin"]


def test_mbr_bad_partitions():
    img = Image(FILES)
    _fails(_Shifted(img, 63, 0x83), "bytes per sector")   # Linux type: MBR read as BPB
    _fails(_Shifted(img, 63, 0x06, img.total + 1), "outside")
    _fails(_Shifted(img, 63, 0x06, img.total - 1), "larger than the device")


def test_fat16_ignores_the_high_cluster_word():
    img = Image(FILES, 16)
    img.dev.put(img.entry_off("d/f.bin") + 20, b"\x07\x00")      # OS/2 EA index, say

    async def go():
        return await (await kv_fat.open_kv(img.dev)).read("d/f.bin")

    assert sched.run(go()) == FILES["d/f.bin"]


def test_exfat_and_ntfs_named_in_the_error():
    for oem, what in ((b"EXFAT   ", "EXFAT volume"), (b"NTFS    ", "NTFS volume")):
        img = Image(FILES)
        img.dev.put(3, oem)
        _fails(img, what)
