# tests/xen/configs/xentest_xs.py (the in-Xen xenstore test app) run against the fake xenstored.
import sys

import fake_xen
from fake_xenstored import FakeXenstored
from morgana import sched
from morgana.xen import ring as R

# tests/xen/configs/ holds the test apps (found from this file, whatever the working directory)
_CONFIGS = (__file__.rsplit("/", 1)[0] if "/" in __file__ else ".") + "/../xen/configs"
if _CONFIGS not in sys.path:
    sys.path.append(_CONFIGS)
import xentest_xs


class Env:
    def __init__(self, **kw):
        self.kw = kw

    def get(self, k):
        return self.kw[k]


def _run(env):
    fake_xen.reset()
    R.log = lambda m: None
    d = FakeXenstored()
    d.set("domid", "1")
    d.denied.add("/local/domain/0/xentest-not-ours")
    lines = []
    xentest_xs.say = lambda *w: lines.append(" ".join(w))
    fake_xen.run(xentest_xs.main(env))
    return lines, d


def test_app_all_checks_pass():
    lines, d = _run(Env(TX_WORKERS=5, DOM0_WAIT=0))
    assert lines[-1] == "done ok", lines
    tx = [l for l in lines if l.startswith("tx ")][0]
    assert "commits=5" in tx and "retries=0" not in tx, tx     # conflicts were retried
    assert d.get("data/xentest/counter") == b"5"


def test_app_waits_for_dom0():
    fake_xen.reset()
    R.log = lambda m: None
    d = FakeXenstored()
    d.set("domid", "1")
    d.denied.add("/local/domain/0/xentest-not-ours")
    lines = []
    xentest_xs.say = lambda *w: lines.append(" ".join(w))

    async def both():
        async def dom0():
            await sched.sleep(3)
            d.set("data/xentest/from-dom0", "hello")
        sched.spawn(dom0())
        await xentest_xs.main(Env(TX_WORKERS=2, DOM0_WAIT=10))
    fake_xen.run(both())
    assert "dom0-watch ok=1 value=hello" in lines and lines[-1] == "done ok", lines


def test_app_reports_failure():
    # a store that does not enforce permissions: the EACCES check must fail the run
    fake_xen.reset()
    R.log = lambda m: None
    d = FakeXenstored()
    d.set("domid", "1")
    lines = []
    xentest_xs.say = lambda *w: lines.append(" ".join(w))
    fake_xen.run(xentest_xs.main(Env(TX_WORKERS=2, DOM0_WAIT=0)))
    assert "errors ok=0 got=ENOENT" in lines and lines[-1] == "done FAIL", lines
