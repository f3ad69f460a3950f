# Power cuts (CPython + hypothesis): random operation sequences on littlefs over a RAM
# device that logs every write. For every prefix of the write log (a power cut after
# that write) the image must mount and hold exactly the model after the last completed
# operation, or after the one in progress: every acknowledged op visible, no torn file.
from hypothesis import given, settings, strategies as st, HealthCheck

from morgana import sched
from morgana.store import lfs, blk_ram

NAMES = ["a", "b", "c", "k1", "k2", "k3", "d/x", "d/y", "e/f/g"]
ops = st.lists(st.one_of(
    st.tuples(st.just("put"), st.sampled_from(NAMES), st.integers(0, 9000), st.integers(0, 255)),
    st.tuples(st.just("append"), st.sampled_from(NAMES), st.integers(1, 3000), st.integers(0, 255)),
    st.tuples(st.just("remove"), st.sampled_from(NAMES)),
    st.tuples(st.just("rename"), st.sampled_from(NAMES), st.sampled_from(NAMES)),
    st.tuples(st.just("rmdir"), st.sampled_from(["d", "e/f", "e"])),
), min_size=1, max_size=20)


def data(n, seed):
    return bytes((seed + i * 7) & 0xff for i in range(n))


def parent_dirs(name):
    parts = name.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


async def state(fs, path="", out=None):
    out = {} if out is None else out
    for s in await fs.scandir(path or "/"):
        p = s.name if not path else path + "/" + s.name
        if s.type == "dir":
            out[p + "/"] = None
            await state(fs, p, out)
        else:
            f = await fs.open(p, "rb")
            out[p] = await f.read()
            await f.close()
    return out


async def apply(fs, model, op, step):
    """Run op on fs and on model (dict path -> bytes, dirs as 'path/': None); step()
    after each atomic part (a needed mkdir is one)."""
    kind = op[0]
    if kind in ("put", "append", "rename"):
        target = op[1] if kind != "rename" else op[2]
        for d in parent_dirs(target):
            if d + "/" not in model:
                if d in model:
                    return
                await fs.mkdir(d)
                model[d + "/"] = None
                step()
    if kind == "put":
        f = await fs.open(op[1], "wb")
        await f.write(data(op[2], op[3]))
        await f.close()
        model[op[1]] = data(op[2], op[3])
    elif kind == "append":
        f = await fs.open(op[1], "ab")
        await f.write(data(op[2], op[3]))
        await f.close()
        model[op[1]] = model.get(op[1], b"") + data(op[2], op[3])
    elif kind == "remove":
        if op[1] in model:
            await fs.remove(op[1])
            del model[op[1]]
    elif kind == "rename":
        if op[1] in model and op[1] != op[2]:
            await fs.rename(op[1], op[2])
            model[op[2]] = model.pop(op[1])
    elif kind == "rmdir":
        d = op[1] + "/"
        if d in model and not any(k != d and k.startswith(d) for k in model):
            await fs.remove(op[1])
            del model[d]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops, st.sampled_from([0, 0xff]), st.sampled_from([4096, 512]))
def test_every_power_cut_mounts_to_a_model_state(seq, fill, bs):
    # 128 blocks of 4 KiB, or 1024 of 512 bytes (small pairs: compaction and splits)
    dev = blk_ram.BlockRAM(sectors=1024, fill=fill)

    async def go():
        await lfs.format(dev, block_size=bs)
        fs = await lfs.mount(dev)
        base = dev.start_log()
        models = [{}]
        marks = [0]
        model = {}
        def step():
            models.append(dict(model))
            marks.append(len(dev.log))
        for op in seq:
            await apply(fs, model, op, step)
            step()
        log = dev.log
        k = 0
        for n in range(len(log) + 1):
            while k + 1 < len(marks) and marks[k + 1] <= n:
                k += 1
            img = blk_ram.replay(base, log, n)
            cut = blk_ram.BlockRAM(data=img)
            got = await state(await lfs.mount(cut, read_only=True))
            ok = [models[k]] + ([models[k + 1]] if k + 1 < len(models) else [])
            assert got in ok, "cut after write %d of %d (step %d): %r" % (
                n, len(log), k, sorted(got))
            rw = await lfs.mount(blk_ram.BlockRAM(data=img))   # repairs, then still valid
            assert await state(rw) == got
            f = await rw.open("z", "wb")
            await f.write(b"after")
            await f.close()
    sched.run(go())
