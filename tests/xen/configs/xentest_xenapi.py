# xentest_xenapi: the kernel does not trust its Python. Every `_xen` primitive is called
# with bad values (ports past the 2-level ABI's 4096, refs and frames not ours, absurd
# page counts, negative sums and deadlines, the kernel's own ports...): each must raise
# the expected exception, with a message, and touch nothing; the guest then shows that
# the good paths still work and powers off normally. Prints (tests/xen/test_boot.py):
#   xentest-xenapi: ok WHAT: ExcType: message       one per bad call
#   xentest-xenapi: FAIL WHAT: ...                   a call that did not raise as expected
#   xentest-xenapi: file NAME SIZE SHA256 same       each file of SITE (crunched), read back
#   xentest-xenapi: done OK FAILED
def config(c):
    c.kv(c.option("SITE", "apps", "directory (relative to tests/xen) crunched into the "
                  "image and read back"), "crunch")


_counts = [0, 0]
_lines = []             # printed in batches by main(), which waits for xenconsoled between


def say(*words):
    _lines.append("xentest-xenapi: " + " ".join(str(w) for w in words))


async def flush(_xen, sched, timeout=60.0):
    """Print what say() gathered, a few lines at a time, each batch once xenconsoled has
    read the one before: it attaches to a new domain only a while after the domain starts,
    and the kernel drops console output that waits too long (or overflows its spill)."""
    u32 = _xen.console_page().u32       # out_cons, out_prod: bytes 3072, 3076
    end = _xen.time_ns() + int(timeout * 1e9)
    while _lines:
        batch = _lines[:8]
        del _lines[:8]
        print("\n".join(batch))
        while (u32[768] != u32[769] or _xen.console_pump()) and _xen.time_ns() < end:
            await sched.sleep(0.005)


def _name(exc):
    return "/".join(e.__name__ for e in exc) if isinstance(exc, tuple) else exc.__name__


def expect(what, exc, fn, *args):
    try:
        r = fn(*args)
    except exc as e:
        msg = str(e)
        if not msg:
            _counts[1] += 1
            say("FAIL", what + ":", type(e).__name__, "without a message")
            return
        _counts[0] += 1
        say("ok", what + ":", type(e).__name__ + ":", msg)
        return
    except Exception as e:
        _counts[1] += 1
        say("FAIL", what + ":", "raised %s: %s, wanted %s" % (type(e).__name__, e,
                                                              _name(exc)))
        return
    _counts[1] += 1
    say("FAIL", what + ":", "returned %r, wanted %s" % (r, _name(exc)))


def check(what, cond):
    if cond:
        _counts[0] += 1
        say("ok", what)
    else:
        _counts[1] += 1
        say("FAIL", what)


def bad_calls(_xen):
    V, O, T = ValueError, OverflowError, TypeError
    # a value beyond a 32-bit machine word (arm32) is refused as too big for one
    W = (ValueError, OverflowError)
    big = 1 << 70
    for name in ("evtchn_mask", "evtchn_unmask", "evtchn_notify", "evtchn_close"):
        fn = getattr(_xen, name)
        for port in (4096, 4097, 1 << 20, -1, 0):
            expect("%s(%d)" % (name, port), V, fn, port)
        expect("%s(2**40)" % name, W, fn, 1 << 40)
        expect("%s(2**70)" % name, O, fn, big)
        expect("%s('3')" % name, T, fn, "3")
    # ports in range that are not open channels: Xen refuses, we raise
    expect("evtchn_notify(4000) unbound", V, _xen.evtchn_notify, 4000)
    expect("evtchn_close(4000) unbound", V, _xen.evtchn_close, 4000)
    # the kernel's own ports: the console's cannot be closed, the timer's neither masked
    # nor closed (found by probing: the only port whose mask is refused as the timer's)
    cons = _xen.start_info()["console_evtchn"]
    expect("evtchn_close(console port %d)" % cons, V, _xen.evtchn_close, cons)
    timer = None
    store = _xen.start_info()["store_evtchn"]
    for p in range(1, 64):
        if p in (cons, store):
            continue
        try:
            _xen.evtchn_mask(p)
        except ValueError as e:
            if "timer" in str(e):
                timer = p
                break
            raise
        try:
            _xen.evtchn_unmask(p)
        except ValueError:
            pass                        # not a port Xen has set up for us
    check("the timer's port found (%r)" % timer, timer is not None)
    if timer is not None:
        expect("evtchn_mask(timer port %d)" % timer, V, _xen.evtchn_mask, timer)
        expect("evtchn_close(timer port %d)" % timer, V, _xen.evtchn_close, timer)
    for virq in (24, 1000, -1):
        expect("evtchn_bind_virq(%d)" % virq, V, _xen.evtchn_bind_virq, virq)
    expect("evtchn_bind_virq(2**70)", O, _xen.evtchn_bind_virq, big)
    expect("evtchn_bind_virq(VIRQ_TIMER) again", OSError, _xen.evtchn_bind_virq, 0)
    for dom in (0x7FF1, 0xFFFF, 70000, -1):
        expect("evtchn_alloc_unbound(%#x)" % dom, V, _xen.evtchn_alloc_unbound, dom)

    # grants: only frames of a live Page, only ordinary domains, only our refs
    sp = _xen.store_page()
    expect("gnttab_grant(store page frame)", V, _xen.gnttab_grant, 0, sp.frames[0], False)
    for frame in (0, 1, -1):
        expect("gnttab_grant(frame %#x)" % frame, V, _xen.gnttab_grant, 0, frame, False)
    expect("gnttab_grant(frame 2**40)", W, _xen.gnttab_grant, 0, 1 << 40, False)
    expect("gnttab_grant(frame 2**70)", O, _xen.gnttab_grant, 0, big, False)
    p = _xen.Page(1)
    for dom in (0x7FF0, 0x7FF2, 1 << 16, -1):
        expect("gnttab_grant(domid %#x)" % dom, V, _xen.gnttab_grant, dom, p.frames[0], True)
    for ref in (0, 7, 2048, 1 << 20, -1):
        expect("gnttab_end(%d)" % ref, V, _xen.gnttab_end, ref)
    expect("gnttab_end(2**40)", W, _xen.gnttab_end, 1 << 40)
    expect("gnttab_end(2**70)", O, _xen.gnttab_end, big)
    ref = _xen.gnttab_grant(0, p.frames[0], True)
    check("gnttab_end(%d) of a fresh grant" % ref, _xen.gnttab_end(ref) is True)
    expect("gnttab_end(%d) twice" % ref, V, _xen.gnttab_end, ref)

    # pages: sizes, free while granted, free twice, pages not ours, stale views
    for n in (0, -1, 1025, 1 << 24):
        expect("Page(%d)" % n, V, _xen.Page, n)
    expect("Page(2**40)", W, _xen.Page, 1 << 40)
    expect("Page(2**70)", O, _xen.Page, big)
    expect("Page('x')", T, _xen.Page, "x")
    two = _xen.Page(2)
    refs = [_xen.gnttab_grant(0, f, False) for f in two.frames]
    mv, u32 = two.mv, two.u32
    mv[4096] = 7
    expect("Page.free() while both frames are granted", V, two.free)
    check("gnttab_end(first) ended", _xen.gnttab_end(refs[0]))
    expect("Page.free() while its 2nd frame is granted", V, two.free)
    check("the page is still usable after the refusals", mv[4096] == 7 and len(u32) == 2048)
    check("gnttab_end(second) ended", _xen.gnttab_end(refs[1]))
    frame = two.frames[1]
    two.free()
    check("Page.free() once no grant is left", len(two.mv) == 0 and len(mv) == 0
          and len(u32) == 0 and two.frames == [])
    expect("Page.free() twice", V, two.free)
    expect("a freed page's old view", IndexError, lambda: mv[4096])
    expect("gnttab_grant(a freed page's frame)", V, _xen.gnttab_grant, 0, frame, False)
    expect("store_page().free()", V, sp.free)
    expect("console_page().free()", V, _xen.console_page().free)
    p.free()

    # lengths and numbers
    expect("console_write(12)", T, _xen.console_write, 12)
    expect("inet_csum(b'ab', -1)", V, _xen.inet_csum, b"ab", -1)
    expect("inet_csum(b'ab', 2**70)", O, _xen.inet_csum, b"ab", big)
    expect("inet_csum(5)", T, _xen.inet_csum, 5)
    for d in (-1, -(1 << 70)):
        expect("block(%d)" % d, V, _xen.block, d)
    for d in (1 << 63, (1 << 64) + 5):
        expect("block(%#x)" % d, O, _xen.block, d)
    expect("block('x')", T, _xen.block, "x")
    for r in (2, 4, 7, -1, 256):
        expect("shutdown(%d)" % r, V, _xen.shutdown, r)
    expect("soft_reset('x')", T, _xen.soft_reset, "x")


async def good_calls(_xen, sched):
    check("inet_csum still right", _xen.inet_csum(b"\x45\x00\x00\x1c", 0xFFFF) == 0x451c
          and _xen.inet_csum(memoryview(b"\xff\xff\x00\x01")[1:], 1) == 2
          and _xen.inet_csum(bytes(range(200)), 12345) == 0x370)
    _xen.console_write(b"")
    _xen.console_write(memoryview(b"xentest-xenapi: a memoryview write\n")[0:35])
    port = _xen.evtchn_alloc_unbound(0)
    _xen.evtchn_mask(port)
    _xen.evtchn_unmask(port)
    _xen.evtchn_notify(port)            # unbound: Xen drops it silently
    _xen.evtchn_close(port)
    expect("evtchn_notify(%d) after close" % port, ValueError, _xen.evtchn_notify, port)
    expect("evtchn_close(%d) twice" % port, ValueError, _xen.evtchn_close, port)
    pages = [_xen.Page(4) for _ in range(8)]
    refs = [_xen.gnttab_grant(0, f, False) for pg in pages for f in pg.frames]
    check("32 grants of 8 four-frame pages", len(set(refs)) == 32)
    check("all ended", all(_xen.gnttab_end(r) for r in refs))
    for pg in pages:
        pg.free()
    await sched.sleep(0)                # a fresh loop round: sleeps count from its time
    t0 = _xen.time_ns()
    await sched.sleep(0.05)
    dt = (_xen.time_ns() - t0) / 1e6
    check("the timer still wakes us (slept %.0f ms)" % dt, 45 <= dt < 2000)


async def read_site(env):
    import hashlib
    import binascii
    kv = env.kv
    for name in kv.names():
        n = await kv.size(name)
        h = hashlib.sha256()
        off = 0
        while off < n:                      # the way the HTTP server reads it
            part = kv.view(name)[off:off + 16384]
            h.update(part)
            off += len(part)
        sliced = h.digest()
        whole = hashlib.sha256(await kv.read(name, 0, None)).digest()
        say("file", name, n, binascii.hexlify(sliced).decode(),
            "same" if whole == sliced else "DIFFERENT")


async def main(env):
    import _xen
    from morgana import sched
    await flush(_xen, sched)            # boot's own lines out first
    bad_calls(_xen)
    await flush(_xen, sched)
    await good_calls(_xen, sched)
    await read_site(env)
    say("done", _counts[0], _counts[1])
    await flush(_xen, sched)
