# xentest_storage_bench: bench/storage_bench.py's Morgana guest. On the raw disk (c.block,
# blkfront) and on the littlefs volume (c.storage) it measures what the Linux domU
# measures with bench/sbench.c, printing "bench KIND n=.. s=.. per_s=.. MBps=..":
#   raw-durable   N times: write 4 KiB, flush (FLUSH_DISKCACHE)      -> writes/s
#   raw-seqw/r    SEQ_MB MiB in 64 KiB writes then one flush / reads -> MB/s
#   lfs-durable   N times: kv put of 4 KiB (durable when it returns)  -> puts/s
#   lfs-seqw/r    one SEQ_MB MiB file, 64 KiB writes, close / reads  -> MB/s
def config(c):
    c.option("N", 200, "durable 4 KiB writes")
    c.option("SEQ_MB", 8, "MiB of the sequential tests")
    c.storage("data", size_mib=32)
    c.block("raw.img", read_only=False, name="raw")


def line(kind, n, bs, dt):
    dt = dt if dt > 0 else 1e-9
    print("bench %s n=%d bs=%d s=%.3f per_s=%.1f MBps=%.2f" % (kind, n, bs, dt, n / dt,
                                                              n * bs / dt / 1e6))


def clock():
    from morgana import sched
    return sched.platform().now_ns() / 1e9     # the real clock, not the round's time


async def main(env):
    n = env.get("N")
    chunks = env.get("SEQ_MB") * 16
    blk = env.blocks["raw"]
    page = b"\x5a" * 4096
    big = b"\xa5" * 65536
    spc = 4096 // blk.sector_size
    t = clock()
    for i in range(n):
        await blk.write(i * spc, page)
        await blk.flush()
    line("raw-durable", n, 4096, clock() - t)
    t = clock()
    for i in range(chunks):
        await blk.write(i * 16 * spc, big)
    await blk.flush()
    line("raw-seqw", chunks, 65536, clock() - t)
    t = clock()
    for i in range(chunks):
        await blk.read(i * 16 * spc, 16 * spc)
    line("raw-seqr", chunks, 65536, clock() - t)
    kv = env.stores["data"]
    fs = env.storage["data"]
    t = clock()
    for i in range(n):
        await kv.put("k%d" % (i % 16), page)
    line("lfs-durable", n, 4096, clock() - t)
    t = clock()
    f = await fs.open("big", "wb")
    for i in range(chunks):
        await f.write(big)
    await f.close()
    line("lfs-seqw", chunks, 65536, clock() - t)
    t = clock()
    f = await fs.open("big", "rb")
    got = 0
    while True:
        b = await f.read(65536)
        if not b:
            break
        got += len(b)
    await f.close()
    line("lfs-seqr", got // 65536, 65536, clock() - t)
    print("bench done flush=%r" % (getattr(blk, "flush_op", "fsync"),))
