# Shared-ring front end against a fake back end, including a lying backend.
import fake_xen
import fake_backends
from morgana.xen import ring as R

REQ = "<HxxI"       # id, gref (netif_rx_request)
RSP = "<HHHh"       # id, offset, flags, status (netif_rx_response)


def _pair(entry=8):
    fake_xen.reset()
    page = fake_xen.Page()
    fr = R.FrontRing(page, REQ, RSP, entry, name="t")
    ref = fake_xen.gnttab_grant(0, page.frames[0], False)
    br = fake_backends.BackRing(fake_backends.map_ring(ref), REQ, RSP, entry)
    return fr, br


def _quiet_log():
    seen = []
    R.log = seen.append
    return seen


def test_ring_sizes_match_ring_h():
    assert R.ring_entries(4096, 12) == 256     # netif tx
    assert R.ring_entries(4096, 8) == 256      # netif rx
    assert R.ring_entries(4096, 112) == 32     # blkif
    assert R.ring_entries(8192, 112) == 64
    try:
        R.ring_entries(100, 112)
        assert False, "no room must be refused"
    except ValueError:
        pass


def test_init_sets_shared_indices():
    fr, br = _pair()
    u = fr.page.u32
    assert (u[0], u[1], u[2], u[3]) == (0, 1, 0, 1)
    assert fr.free_requests() == 256


def test_roundtrip_in_order():
    fr, br = _pair()
    for i in range(5):
        fr.put_request(i, 100 + i)
    assert br.requests() == []          # nothing published yet
    assert fr.push_requests() is True   # req_event starts at 1
    reqs = br.requests()
    assert reqs == [(i, 100 + i) for i in range(5)]
    for (i, g) in reqs:
        br.put_response(i, 0, 0, g)
    br.push_responses()
    got = fr.take_responses()
    assert got == [(i, 0, 0, 100 + i) for i in range(5)]
    assert fr.take_responses() == []
    assert fr.free_requests() == 256
    assert fr.page.u32[3] == 6          # rsp_event re-armed at rsp_cons + 1


def test_notify_suppression():
    fr, br = _pair()
    fr.put_request(1, 1)
    assert fr.push_requests()
    br.requests()                        # backend sets req_event = 2
    fr.put_request(2, 2)
    assert fr.push_requests()            # crosses req_event
    br.set_req_event(1000)               # backend busy: does not want events
    fr.put_request(3, 3)
    assert not fr.push_requests()
    assert not fr.push_requests()        # nothing new: no notify


def test_full_ring_refused():
    fr, br = _pair()
    for i in range(256):
        fr.put_request(i, i)
    assert fr.free_requests() == 0
    try:
        fr.put_request(0, 0)
        assert False
    except R.RingError:
        pass


def test_wraparound_of_32bit_indices():
    fr, br = _pair()
    start = R.M32 - 2
    fr.req_prod_pvt = fr.req_pushed = fr.rsp_cons = start
    fr.page.u32[0] = start
    fr.page.u32[2] = start
    br.req_cons = br.rsp_prod_pvt = start
    for i in range(6):
        fr.put_request(i, i)
    fr.push_requests()
    reqs = br.requests()
    assert len(reqs) == 6
    for (i, g) in reqs:
        br.put_response(i, 0, 0, 0)
    br.push_responses()
    assert [r[0] for r in fr.take_responses()] == list(range(6))
    assert fr.rsp_cons == 3


def test_lying_producer_index_is_an_error():
    seen = _quiet_log()
    fr, br = _pair()
    fr.put_request(1, 1)
    fr.push_requests()
    br.requests()
    br.set_rsp_prod(50)                  # 50 responses for 1 request
    try:
        fr.take_responses()
        assert False, "must refuse"
    except R.RingError:
        pass
    assert fr.error is not None and len(seen) == 1 and "rsp_prod" in seen[0]
    # sticky: everything refuses from now on, without touching the ring
    for op in (lambda: fr.put_request(2, 2), fr.push_requests, fr.take_responses):
        try:
            op()
            assert False
        except R.RingError:
            pass
    assert len(seen) == 1


def test_producer_index_behind_is_an_error():
    _quiet_log()
    fr, br = _pair()
    fr.put_request(1, 1)
    fr.push_requests()
    br.requests()
    br.put_response(1, 0, 0, 0)
    br.push_responses()
    fr.take_responses()
    br.set_rsp_prod(0)                  # moves backwards: looks like 2^32-1 pending
    try:
        fr.take_responses()
        assert False
    except R.RingError:
        pass


def test_response_before_request_published_is_an_error():
    _quiet_log()
    fr, br = _pair()
    fr.put_request(1, 1)                # queued, not pushed
    br.set_rsp_prod(1)
    try:
        fr.take_responses()
        assert False
    except R.RingError:
        pass


def test_id_table_refuses_unknown_and_duplicate_ids():
    seen = _quiet_log()
    fr, br = _pair()
    ids = R.IdTable(4)
    a = ids.alloc("a")
    b = ids.alloc("b")
    assert a != b and ids.available() == 2
    assert ids.release(fr, a) == "a"
    for bad in (a, 4, -1, 65535):
        try:
            ids.release(fr, bad)
            assert False, bad
        except R.RingError:
            pass
    assert "not outstanding" in seen[0]
    assert fr.error is not None


def test_id_table_exhaustion():
    ids = R.IdTable(2)
    ids.alloc(1)
    ids.alloc(2)
    try:
        ids.alloc(3)
        assert False
    except R.RingError:
        pass
    try:
        ids.alloc(None)
        assert False
    except ValueError:
        pass


def test_formats_must_fit_entry():
    fake_xen.reset()
    try:
        R.FrontRing(fake_xen.Page(), "<QQ", "<H", 8)
        assert False
    except ValueError:
        pass
