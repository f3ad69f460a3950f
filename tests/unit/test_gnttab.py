# Grant helpers: grants end only once the backend released them; parked otherwise.
import fake_xen
from morgana import sched
from morgana.xen import gnttab


def test_grant_and_release_now():
    fake_xen.reset()
    p = fake_xen.Page(2)
    refs = gnttab.grant_page(0, p, readonly=True)
    assert len(refs) == 2 and fake_xen.grants_live() == 2
    try:
        fake_xen.map_grant(0, refs[0], True)
        assert False, "read-only grant mapped writable"
    except fake_xen.GrantFault:
        pass
    assert gnttab.release(refs, p) is True
    assert fake_xen.grants_live() == 0 and p.freed


def test_release_parks_mapped_grant_until_unmapped():
    fake_xen.reset()

    async def main():
        p = fake_xen.Page()
        ref = gnttab.grant_page(3, p)[0]
        fake_xen.map_grant(3, ref, True)      # backend holds it
        done_now = gnttab.release([ref], p)
        parked = gnttab.parked()
        await sched.sleep(gnttab.RETRY_SECONDS * 3)
        still = gnttab.parked()
        freed_early = p.freed
        fake_xen.unmap_grant(ref)
        await sched.sleep(gnttab.RETRY_SECONDS * 2)
        return done_now, parked, still, freed_early, gnttab.parked(), p.freed
    r = fake_xen.run(main())
    assert r == (False, 1, 1, False, 0, True)
    assert fake_xen.grants_live() == 0


def test_pool_take_give_close():
    fake_xen.reset()
    pool = gnttab.GrantPool(0, 4)
    items = [pool.take() for _ in range(4)]
    assert pool.take() is None and pool.available() == 0
    assert len(set([r for (r, pg) in items])) == 4
    pool.give(items[0])
    assert pool.available() == 1
    pool.close()
    assert fake_xen.grants_live() == 0


def test_grant_to_wrong_domain_cannot_be_mapped():
    fake_xen.reset()
    p = fake_xen.Page()
    ref = gnttab.grant_page(5, p)[0]
    try:
        fake_xen.map_grant(6, ref, False)
        assert False
    except fake_xen.GrantFault:
        pass


def test_fake_inet_csum_matches_kernel_semantics():
    # start is an initial sum (as in kernel/port/modxen.c), not an offset
    assert fake_xen.inet_csum(b"\x45\x00\x00\x1c") == 0x451C
    assert fake_xen.inet_csum(b"\x01") == 0x0100
    assert fake_xen.inet_csum(b"\xff\xff\x00\x02", 0) == 0x0002
    assert fake_xen.inet_csum(b"\x00\x01", 0xFFFF) == 0x0001
    assert fake_xen.inet_csum(b"") == 0
