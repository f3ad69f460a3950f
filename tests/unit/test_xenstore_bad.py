# A misbehaving xenstored: the client must refuse, log once, fail every waiter with
# ProtocolError and refuse later calls, without crashing or touching memory off the ring.
import fake_xen
from fake_xenstored import FakeXenstored
from morgana import sched
from morgana.xen import xenstore as X
from morgana.xen import ring as R


def _misbehave(knob):
    fake_xen.reset()
    logs = []
    R.log = logs.append
    d = FakeXenstored()
    d.set("k", "v")

    async def main():
        xs = X.Xenstore(fake_xen.store_page(), fake_xen.start_info()["store_evtchn"])
        setattr(d, knob, True)
        out = []
        for _ in range(2):
            try:
                await sched.with_timeout(1.0, xs.read("k"))
                out.append("ok")
            except X.ProtocolError:
                out.append("refused")
            except sched.Timeout:
                out.append("hung")
        out.append(xs.error is not None)
        xs.close()
        return out
    return fake_xen.run(main()), logs


def _check(knob, word):
    out, logs = _misbehave(knob)
    assert out == ["refused", "refused", True], (knob, out)
    assert len(logs) == 1 and word in logs[0], (knob, logs)


def test_lying_rsp_prod():
    _check("lie_rsp_prod", "producer index")


def test_oversize_reply():
    _check("oversize_reply", "exceeds 4096")


def test_unknown_reply_id():
    _check("unknown_reply_id", "unknown req_id")


def test_wrong_reply_type():
    _check("wrong_reply_type", "reply type")


def test_bad_req_cons():
    _check("bad_req_cons", "consumer index")


def test_error_reply_is_not_fatal():
    fake_xen.reset()
    d = FakeXenstored()
    d.set("k", "v")

    async def main():
        xs = X.Xenstore(fake_xen.store_page(), fake_xen.start_info()["store_evtchn"])
        try:
            await xs.read("missing")
        except X.NoEntry:
            pass
        v = await xs.read("k")
        xs.close()
        return v, xs.error
    assert fake_xen.run(main()) == ("v", None)
