# xentest_lfs_crash: the guest half of the littlefs crash tests (tests/cli/test_storage_crash
# kills it with kill -9 on unix; tests/xen/test_lfs_crash_xen with `xl destroy`). On its
# c.storage volume it writes key k<j> = value(i) for i = 1, 2, ... forever, and prints
# "ACK i" once each put has returned (durable). At start it checks every key it finds and
# prints "UP next=I keys=N" (I: the first i it will write) or "BAD ..." for a torn value.
# value(i) = ("k<j>:<i>;" repeated 1 + 13*i % 300 times): inline files and CTZ files.
def config(c):
    c.option("DATA_MIB", 1, "size of the volume")
    c.option("KEYS", 23, "distinct keys")
    c.option("PAUSE", 0.0, "seconds between writes")
    c.storage("data", size_mib=c.get("DATA_MIB"))


def key_of(i, keys):
    return "k%d" % ((i * 7) % keys)


def value_of(i, keys):
    return (("%s:%d;" % (key_of(i, keys), i)) * (1 + (13 * i) % 300)).encode()


def seq_of(key, data, keys):
    """i of a well-formed value of key, else None (torn)."""
    s = data.decode()
    head = s.split(";", 1)[0]
    if not head.startswith(key + ":") or not head[len(key) + 1:].isdigit():
        return None
    i = int(head[len(key) + 1:])
    return i if key_of(i, keys) == key and data == value_of(i, keys) else None


async def main(env):
    from morgana import sched
    keys = env.get("KEYS")
    kv = env.stores["data"]
    top = 0
    names = await kv.list()
    for name in names:
        i = seq_of(name, await kv.get(name), keys)
        if i is None:
            print("BAD torn value in", name)
            return
        top = i if i > top else top
    i = top + 1
    print("UP next=%d keys=%d" % (i, len(names)))
    pause = env.get("PAUSE")
    while True:
        await kv.put(key_of(i, keys), value_of(i, keys))
        print("ACK %d" % i)
        i += 1
        if pause:
            await sched.sleep(pause)
