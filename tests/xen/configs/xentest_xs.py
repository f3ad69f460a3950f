# xentest_xs: the guest half of the xenstore acceptance test (tests/xen). Prints
# "xentest-xs: KEY ..." lines the host side checks (and can cross-check with
# xenstore-read in dom0):
#   domain      our domain path
#   rw          write/read/directory round trip under data/xentest
#   errors      ENOENT and EACCES arrive as NoEntry / PermissionDenied
#   watch       events: the initial one, then one per write below the watched node
#   tx          TX_WORKERS concurrent read-modify-write transactions on one counter:
#               the final value must equal the number of commits (EAGAIN retried)
#   dom0-watch  (DOM0_WAIT > 0) waits for dom0 to `xenstore-write` data/xentest/from-dom0
#   done ok     (or "FAIL reason")
def config(c):
    c.option("TX_WORKERS", 5, "concurrent transactions on one counter")
    c.option("DOM0_WAIT", 0, "seconds to wait for dom0 to write data/xentest/from-dom0")
    c.modules("morgana.xen.ring", "morgana.xen.bytering", "morgana.xen.xenstore")


def say(*words):
    print("xentest-xs:", *words)


async def main(env):
    from morgana import sched
    from morgana.xen import xenstore as X
    try:
        ok = await run(env, sched, X)
    except Exception as e:
        say("FAIL", repr(e))
        raise
    say("done", "ok" if ok else "FAIL")


async def run(env, sched, X):
    xs = X.client()
    ok = True
    home = await xs.read("domid")
    say("domain", "domid=" + home, "path=" + await xs.get_domain_path(int(home)))

    base = "data/xentest"
    await xs.write(base + "/a", "alpha")
    await xs.write(base + "/b", "beta")
    got = (await xs.read(base + "/a"), await xs.directory(base))
    good = got == ("alpha", ["a", "b"])
    ok = ok and good
    say("rw", "ok=%d" % good, "read=%s" % got[0], "dir=%s" % ",".join(got[1]))

    errs = []
    try:
        await xs.read(base + "/missing")
    except X.NoEntry:
        errs.append("ENOENT")
    try:
        await xs.write("/local/domain/0/xentest-not-ours", "x")
    except X.PermissionDenied:
        errs.append("EACCES")
    good = errs == ["ENOENT", "EACCES"]
    ok = ok and good
    say("errors", "ok=%d" % good, "got=" + ",".join(errs))

    w = await xs.watch(base + "/w")
    first = await sched.with_timeout(5, w.get())
    seen = []
    for k in range(3):
        await xs.write(base + "/w/k%d" % k, str(k))
        seen.append(await sched.with_timeout(5, w.get()))
    await w.unwatch()
    good = first == base + "/w" and seen == [base + "/w/k%d" % k for k in range(3)]
    ok = ok and good
    say("watch", "ok=%d" % good, "initial=" + first, "events=%d" % len(seen))

    await xs.write(base + "/counter", "0")
    attempts = [0]

    async def bump(tx):
        attempts[0] += 1
        v = int(await tx.read(base + "/counter"))
        await sched.sleep(0.01)     # let the others start: forces conflicts
        await tx.write(base + "/counter", str(v + 1))
        return v + 1

    n = int(env.get("TX_WORKERS"))
    await sched.join([xs.transaction(bump) for _ in range(n)])
    final = int(await xs.read(base + "/counter"))
    good = final == n
    ok = ok and good
    say("tx", "ok=%d" % good, "commits=%d" % final, "attempts=%d" % attempts[0],
        "retries=%d" % (attempts[0] - n))

    wait = float(env.get("DOM0_WAIT"))
    if wait > 0:
        w = await xs.watch(base + "/from-dom0")
        await w.get()
        say("dom0-watch", "waiting")
        v = None
        try:
            while v is None:
                await sched.with_timeout(wait, w.get())
                try:
                    v = await xs.read(base + "/from-dom0")
                except X.NoEntry:
                    pass
            say("dom0-watch", "ok=1", "value=" + v)
        except sched.Timeout:
            ok = False
            say("dom0-watch", "ok=0", "timeout")
        await w.unwatch()
    return ok
