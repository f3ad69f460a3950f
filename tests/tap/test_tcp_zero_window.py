# 10,000 silent zero-window connections, then 100 normal clients (issue 15): our stack on
# MicroPython with a 32 MiB heap (www's default MEM) serves all 100, its heap stays under
# its budget throughout (heap probe), and the silent ones are reaped within the documented
# time (tcp_flow.PERSIST_TIMEOUT after their last segment; sooner when memory is short:
# stalled flows are evicted for new clients).
import json
import os
import sys
import time

import netns

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(netns.ROOT, "pylib"))
from morgana.net import tcp_flow  # noqa: E402

MAC = "02:00:00:00:00:02"
N_SILENT = 10000
N_NORMAL = 100
PAGE = 1024


def test_silent_zero_window_flood_then_normal_clients(ns):
    st = netns.OurStack(ns, "micropython", ["--ip", "10.0.0.2/24", "--mac", MAC,
                                            "--http", "80:1000"], heap="32M")
    assert netns.ping(ns, st.ip, 2)[1] == 2
    t0 = time.time()
    r = ns.run(netns.CPYTHON, os.path.join(HERE, "zw_flood.py"), "tap0", MAC, st.ip, "80",
               str(N_SILENT), "--timeout", "300", timeout=400, check=False)
    assert r.stdout.strip(), r.stderr[-2000:]
    flood = json.loads(r.stdout)
    t_flood = time.time()
    during = st.stats()
    # now the normal clients, all at once, while the silent ones still hold their flows
    r = ns.run(netns.CPYTHON, os.path.join(HERE, "burst.py"), st.ip, "80", "/small.html",
               str(N_NORMAL), "60", str(PAGE), timeout=120, check=False)
    normal = json.loads(r.stdout.strip().splitlines()[-1])
    after = st.stats()
    # the silent ones go: reset after PERSIST_TIMEOUT without a segment from them
    limit = tcp_flow.PERSIST_TIMEOUT + 15
    reaped = None
    while time.time() - t_flood < limit + 30:
        s = st.stats()
        if s["_mem"]["flows"] - s["_mem"]["time_wait"] == 0:
            reaped = time.time() - t_flood
            break
        time.sleep(2)
    final = st.stats()
    m = during["_mem"]
    print("\nflood of %d: %s in %.1f s; during it: %d flows, %d bytes accounted (budget %d)"
          % (N_SILENT, flood, t_flood - t0, m["flows"], m["used"], m["budget"]))
    print("normal clients: %s" % normal)
    print("silent flows reaped %s s after the flood (limit %d s); persist timeouts %d, "
          "evicted when memory was short %d, SYNs refused for memory %d, cookie ACKs "
          "without room %d" % (
              None if reaped is None else round(reaped, 1), limit,
              final.get("tcp_persist_timeout", 0), final.get("tcp_evicted_stalled", 0),
              final.get("tcp_syn_drop_memory", 0), final.get("tcp_syn_cookie_no_room", 0)))
    h, mem = netns.check_heap(final, "zero-window flood", st.stderr())
    per_flow = (during["_heap"]["max"] - during["_heap"]["base"]) / max(1, m["flows"])
    print("live heap per silent flow at the peak: %d bytes (charged %d + buffers)"
          % (per_flow, m["flow_cost"]))
    assert st.alive() and final.get("rx_exception", 0) == 0
    assert flood["established"] >= 1000  # the flood did get in, up to the budget
    assert normal["served"] == N_NORMAL, (normal, after)
    assert reaped is not None and reaped <= limit, final["_mem"]
    assert final.get("tcp_persist_timeout", 0) + final.get("tcp_evicted_stalled", 0) \
        >= flood["established"] - 5
