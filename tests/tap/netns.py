# Helpers for the TAP integration tests: a throw-away network namespace holding a TAP
# device (Linux side 10.0.0.1/24) and our stack running over it as a separate process.
import json
import os
import socket
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNNER = os.path.join(ROOT, "tests", "tap", "run_stack.py")
MICROPYTHON = os.path.join(ROOT, "build", "unix", "micropython")
CPYTHON = os.path.join(ROOT, ".cache", "venv", "bin", "python")
LINUX_IP = "10.0.0.1"
STACK_IP = "10.0.0.2"
IMPLS = ("cpython", "micropython")


def sh(*args, check=True, timeout=30, ns=None):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    return subprocess.run(cmd, check=check, timeout=timeout, capture_output=True, text=True)


def can_run():
    """Why the TAP tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, TAP)"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun"
    return None


class Netns:
    def __init__(self, tag, linux_ip=LINUX_IP, prefix=24):
        self.name = "mgt-%s-%d" % (tag, os.getpid())
        sh("ip", "netns", "del", self.name, check=False)
        sh("ip", "netns", "add", self.name)
        self.run("ip", "link", "set", "lo", "up")
        self.run("ip", "tuntap", "add", "dev", "tap0", "mode", "tap")
        if linux_ip:
            self.run("ip", "addr", "add", "%s/%d" % (linux_ip, prefix), "dev", "tap0")
        self.run("ip", "link", "set", "tap0", "up")
        self.procs = []

    def run(self, *args, check=True, timeout=30):
        return sh(*args, check=check, timeout=timeout, ns=self.name)

    def popen(self, args, env=None, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", self.name] + list(args), env=env, **kw)
        self.procs.append(p)
        return p

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        sh("ip", "netns", "del", self.name, check=False)


class OurStack:
    """Our stack as a process inside ns; impl is 'cpython' or 'micropython'."""

    def __init__(self, ns, impl, args, ready_timeout=20, tap="tap0", heap="64M"):
        env = dict(os.environ)
        if impl == "micropython":
            env["MICROPYPATH"] = os.path.join(ROOT, "pylib")
            exe = [MICROPYTHON, "-X", "heapsize=" + heap]
        else:
            env["PYTHONPATH"] = os.path.join(ROOT, "pylib")
            exe = [CPYTHON if os.path.exists(CPYTHON) else "python3", "-u"]
        self.ns = ns
        self.log = open("/tmp/%s-%s.log" % (ns.name, impl), "w+")
        self.proc = ns.popen(exe + [RUNNER] + (["--tap", tap] if tap else []) + list(args),
                             env=env,
                             stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.ip = self._wait_ready(ready_timeout)

    def _wait_ready(self, timeout):
        import select
        end = time.time() + timeout
        while time.time() < end:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if r:
                line = self.proc.stdout.readline()
                if line.startswith("READY "):
                    return line.split()[1]
                if not line and self.proc.poll() is not None:
                    break
        self.log.seek(0)
        raise AssertionError("stack did not come up: %s" % self.log.read()[-2000:])

    def alive(self):
        return self.proc.poll() is None

    def stderr(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stats(self, tries=5):
        """The stack's counters, asked over UDP port 9999 from inside the namespace
        (retried: the link may be impaired on purpose)."""
        code = ("import socket,sys\n"
                "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout(1)\n"
                "for i in range(%d):\n"
                "  s.sendto(b'stats',('%s',9999))\n"
                "  try:\n"
                "    sys.stdout.write(s.recvfrom(65000)[0].decode());break\n"
                "  except OSError:\n"
                "    pass\n" % (tries, self.ip))
        out = self.ns.run("python3", "-c", code, timeout=tries + 10)
        return json.loads(out.stdout)


def check_heap(st, label, log=""):
    """The heap probe's verdict on a stats reply st (run_stack.py / tcp_apps.py): prints the
    largest heap use and asserts it stayed under the stack's budget (growth over the idle
    heap; MicroPython's live heap after collection, CPython's RSS), that the stack's own
    accounting stayed under it too, and that no handler saw a MemoryError."""
    h, m = st["_heap"], st["_mem"]
    grew = h["max"] - h["base"]
    print("\n%s: heap (%s) max %d, idle %d, growth %d; stack budget %d, accounted max %d%s"
          % (label, h["kind"], h["max"], h["base"], grew, m["budget"], m["max"],
             (", heap size %d" % h["total"]) if h["total"] else ""))
    assert m["max"] <= m["budget"], (m, label)
    assert grew <= m["budget"], (h, m, label)
    if h["total"]:
        assert h["max"] < h["total"]
    assert st.get("tcp_handler_memory_error", 0) == 0
    assert "MemoryError" not in log, log[-3000:]
    return h, m


def ping(ns, ip, count, size=None, interval="0.01", wait=5):
    args = ["ping", "-n", "-q", "-c", str(count), "-i", interval, "-W", str(wait)]
    if size:
        args += ["-s", str(size)]
    out = ns.run(*(args + [ip]), check=False, timeout=count * 1 + 30).stdout
    for line in out.splitlines():
        if "received" in line:
            # "100 packets transmitted, 100 received, 0% packet loss, time 1234ms"
            parts = line.split(",")
            return int(parts[0].split()[0]), int(parts[1].split()[0])
    raise AssertionError("no ping summary: %r" % out)
