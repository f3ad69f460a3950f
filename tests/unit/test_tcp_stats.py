# Counters and memory made visible: stack.memory() on both stacks, the periodic log line
# (log_stats, what the STATS option starts from the boot module), and the boot lines.
from morgana import sched
from morgana.net.stack import Stack
from morgana.net import stats_line
from morgana.net import socket_stack
from morgana.host import boot_gen
from test_stack import FakeNetif
from test_tcp_api import VirtualPlat


class Log:
    def __init__(self):
        self.lines = []

    def info(self, fmt, *args):
        self.lines.append(fmt % args)


def test_memory_summary_of_the_direct_stack():
    st = Stack(FakeNetif(), ip="10.0.0.2", mem_budget=1 << 20)
    m = st.memory()
    for k in ("budget", "used", "max", "flows", "half_open", "time_wait", "frag_held",
              "tx_queue"):
        assert k in m, k
    assert m["budget"] == 1 << 20 and m["used"] == 0 and m["flows"] == 0
    assert st.frags.max_bytes <= 256 * 1024  # IP reassembly follows the budget too


def test_memory_summary_of_the_socket_stack():
    m = socket_stack.Stack("127.0.0.1").memory()
    assert m["budget"] is None and m["flows"] == 0


def test_stats_line_shows_memory_and_what_moved():
    last = {}
    line = stats_line({"tcp_in": 5, "rx_frames": 7}, {"used": 10, "budget": 99}, last)
    assert line.startswith("mem budget=99 used=10 | ")
    assert "rx_frames=7(+7)" in line and "tcp_in=5(+5)" in line
    line = stats_line({"tcp_in": 8, "rx_frames": 7}, {"used": 10, "budget": 99}, last)
    assert "tcp_in=8(+3)" in line and "rx_frames" not in line
    assert stats_line({"tcp_in": 8}, {}, last).endswith("| no change")


def test_log_stats_logs_every_period_on_both_stacks():
    prev = sched._plat
    sched.set_platform(VirtualPlat())
    try:
        async def main():
            out = []
            for st in (Stack(FakeNetif(), ip="10.0.0.2", mem_budget=1 << 20),
                       socket_stack.Stack("127.0.0.1")):
                log = Log()
                t = sched.spawn(st.log_stats(5, log))
                st.stats["tcp_in" if isinstance(st, Stack) else "accepted"] = 3
                await sched.sleep(12)
                t.cancel()
                out.append(log.lines)
            return out
        direct, sock = sched.run(main())
    finally:
        sched.set_platform(prev)
    assert len(direct) == 2 and "budget=1048576" in direct[0] and "tcp_in=3(+3)" in direct[0]
    assert direct[1].endswith("no change")
    assert len(sock) == 2 and "accepted=3(+3)" in sock[0] and "budget=None" in sock[0]


def _cfg(stats, stack="direct"):
    net = {"stack": "socket", "ip": "0.0.0.0"} if stack == "socket" else {
        "stack": "direct", "dhcp": False, "ip": "10.0.0.2", "netmask": "255.255.255.0",
        "gateway": "", "tap": "tap0"}
    return {"name": "www", "target": "unix-tap" if stack == "direct" else "unix-socket",
            "target_platform": "morgana.plat_unix", "options": {"STATS": stats},
            "network": net, "kv": None, "blocks": [], "services": [], "build_dir": "/tmp"}


def test_boot_module_starts_the_stats_task_only_when_asked():
    for stack in ("direct", "socket"):
        on = boot_gen.source(_cfg(10, stack))
        assert "sched.spawn(env.stack.log_stats(env.get('STATS'), logs.Src('stats')))" in on
        assert "log_stats" not in boot_gen.source(_cfg(0, stack))
        try:
            compile(on, "_boot.py", "exec")
        except NameError:
            pass  # a MicroPython without compile()
