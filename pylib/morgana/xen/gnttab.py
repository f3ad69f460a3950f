# Grant helpers over _xen's grant table (v1). A page granted to a backend may only be
# reused or freed once gnttab_end() succeeds, i.e. the backend has unmapped it; until
# then it is parked here and retried in the background (a backend that never releases a
# grant costs us that page, never memory safety).
from morgana import sched

import _xen

RETRY_SECONDS = 1.0


def grant_page(domid, page, readonly=False):
    """Grant every frame of `page` to `domid`; the list of refs (one per frame)."""
    return [_xen.gnttab_grant(domid, f, readonly) for f in page.frames]


_parked = []        # [refs still granted, page or None]
_beat = [None]      # sched.now() of the retry task's last round (None: not running)
stats = {"parked": 0, "freed_late": 0}


def _try_end(refs):
    left = []
    for r in refs:
        if not _xen.gnttab_end(r):
            left.append(r)
    return left


def release(refs, page=None):
    """End the grants `refs`, then free `page` (if given). Returns True when done now;
    False when the backend still maps some: they are retried later."""
    left = _try_end(refs)
    if not left:
        if page is not None:
            page.free()
        return True
    _parked.append([left, page])
    stats["parked"] += 1
    _start_retrier()
    return False


def retry_parked():
    """Try the parked grants again; the number still parked."""
    keep = []
    for ent in _parked:
        ent[0] = _try_end(ent[0])
        if ent[0]:
            keep.append(ent)
        else:
            stats["freed_late"] += 1
            if ent[1] is not None:
                ent[1].free()
    _parked[:] = keep
    return len(keep)


def parked():
    return len(_parked)


def _start_retrier():
    # A retry task that has not beaten for a while belonged to a loop that has ended.
    b = _beat[0]
    if b is not None and sched.now() - b < 2 * RETRY_SECONDS:
        return
    _beat[0] = sched.now()
    sched.spawn(_retry_loop(), "gnttab-retry")


async def _retry_loop():
    try:
        while True:
            await sched.sleep(RETRY_SECONDS)
            _beat[0] = sched.now()
            if not retry_parked():
                break
    finally:
        _beat[0] = None


def drop_parked():
    """Forget parked grants (a test starting a fresh fake world)."""
    _parked[:] = []
    _beat[0] = None


class GrantPool:
    """`n` single pages granted up front to one backend: netfront's tx buffers and
    blkfront's segment pages. take()/give() are O(1) and never touch the grant table."""

    def __init__(self, domid, n, readonly=False):
        self.domid = domid
        self.free = []
        self.all = []
        for _ in range(n):
            p = _xen.Page(1)
            ref = _xen.gnttab_grant(domid, p.frames[0], readonly)
            self.all.append((ref, p))
            self.free.append((ref, p))

    def available(self):
        return len(self.free)

    def take(self):
        """(ref, page) or None when all are in use."""
        if self.free:
            return self.free.pop()
        return None

    def give(self, item):
        self.free.append(item)

    def close(self):
        """End every grant (pages still mapped by the backend are parked)."""
        for (ref, p) in self.all:
            release([ref], p)
        self.all = []
        self.free = []
