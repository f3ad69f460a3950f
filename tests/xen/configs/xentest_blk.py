# xentest_blk: the guest half of the blkfront acceptance test (tests/xen). Prints lines
# "xentest-blk: KEY ..." on the console that the host side checks against dom0's view of
# the file backing the disk:
#   geometry   devid, sectors, sector size, read-only, flush support
#   dom0-read  sha256 of sectors [0, READ_SECTORS) (dom0 wrote them before boot)
#   wrote      sha256 of the pattern written at [WRITE_AT, WRITE_AT + 128) (dom0 reads it)
#   seq-write / seq-read  SEQ_MB MiB from sector SEQ_AT: MB/s and sha256 of both passes
#   done ok    (or "FAIL reason")
# The pattern of sector s is its number (8 bytes big-endian) then 504 bytes of (s & 255),
# so a sector landing in the wrong place shows in the checksum.
import struct


def config(c):
    c.option("DISK", "", "vbd device id (default: the first disk)")
    c.option("READ_SECTORS", 128, "sectors dom0 wrote at 0 that we read back")
    c.option("WRITE_AT", 2048, "where we write 128 sectors for dom0 to read")
    c.option("SEQ_AT", 4096, "first sector of the sequential test")
    c.option("SEQ_MB", 16, "MiB written then read sequentially")
    c.option("CHUNK_KB", 256, "KiB per read/write call in the sequential test")
    c.option("SEG_PAGES", 128, "pages granted to the backend for request segments")
    c.modules("morgana.xen.ring", "morgana.xen.bytering", "morgana.xen.xenstore",
              "morgana.xen.xenbus", "morgana.xen.gnttab", "blkfront")


def pattern(first, count):
    parts = []
    for s in range(first, first + count):
        parts.append(struct.pack(">Q", s) + bytes([s & 255]) * 504)
    return b"".join(parts)


def sha(data_chunks):
    import hashlib
    import binascii
    h = hashlib.sha256()
    for c in data_chunks:
        h.update(c)
    return binascii.hexlify(h.digest()).decode()


def say(*words):
    print("xentest-blk:", *words)


async def main(env):
    from morgana import sched
    import blkfront
    try:
        await run(env, sched, blkfront)
    except Exception as e:
        say("FAIL", repr(e))
        raise


async def run(env, sched, blkfront):
    want = env.get("DISK")
    pages = int(env.get("SEG_PAGES"))
    if want:
        disks = [await blkfront.connect(int(want), seg_pages=pages)]
    else:
        disks = await blkfront.connect_all(seg_pages=pages)
    if not disks:
        say("FAIL no disk")
        return
    d = disks[0]
    say("geometry", "devid=%d" % d.devid, "sectors=%d" % d.sectors,
        "sector_size=%d" % d.sector_size, "ro=%d" % d.read_only,
        "flush=%d" % (d.flush_op is not None), "disks=%d" % len(disks))
    per = d.sector_size // 512     # the pattern is in 512-byte units

    n = int(env.get("READ_SECTORS")) // per
    say("dom0-read", "sectors=%d" % (n * per), "sha256=" + sha([await d.read(0, n)]))

    at = int(env.get("WRITE_AT")) // per
    data = pattern(at * per, 128)
    await d.write(at, data)
    await d.flush()
    say("wrote", "sector=%d" % (at * per), "count=128", "sha256=" + sha([data]))

    seq_at = int(env.get("SEQ_AT")) // per
    total = int(float(env.get("SEQ_MB")) * 1024 * 1024)
    chunk = int(env.get("CHUNK_KB")) * 1024
    step = chunk // d.sector_size
    if seq_at + total // d.sector_size > d.sectors:
        say("FAIL disk too small for the sequential test")
        return
    import hashlib
    import binascii
    h = hashlib.sha256()
    t0 = sched.now()
    gen = 0.0
    for k in range(total // chunk):
        g0 = sched.now()
        buf = pattern((seq_at + k * step) * per, chunk // 512)
        h.update(buf)
        gen += sched.now() - g0
        await d.write(seq_at + k * step, buf)
    await d.flush()
    dt = sched.now() - t0 - gen
    wsum = binascii.hexlify(h.digest()).decode()
    say("seq-write", "bytes=%d" % total, "seconds=%.3f" % dt,
        "MBps=%.2f" % (total / 1e6 / dt if dt > 0 else 0), "sha256=" + wsum)
    h = hashlib.sha256()
    t0 = sched.now()
    hs = 0.0
    for k in range(total // chunk):
        buf = await d.read(seq_at + k * step, step)
        g0 = sched.now()
        h.update(buf)
        hs += sched.now() - g0
    dt = sched.now() - t0 - hs
    rsum = binascii.hexlify(h.digest()).decode()
    say("seq-read", "bytes=%d" % total, "seconds=%.3f" % dt,
        "MBps=%.2f" % (total / 1e6 / dt if dt > 0 else 0), "sha256=" + rsum,
        "match=%d" % (rsum == wsum))
    for disk in disks:
        await disk.close()
    say("done", "ok" if rsum == wsum else "MISMATCH")
