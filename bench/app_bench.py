# The application API's cost on the native CPU (issue 11), one table, one run:
#   - www's static index.html, req/s on unix-tap (MicroPython, our stack), with the tree as
#     it was before the HTTP rewrite (--before REV, a git worktree) and as it is now;
#   - notes' JSON GET /api/notes (microdot on our asyncio), on unix-tap (MicroPython, our
#     stack), on unix-socket (MicroPython, Linux's stack) and the same microdot app on
#     CPython's asyncio over Linux's stack (bench/notes_cpython.py).
# Same client for every row: wrk -t1 -c10 from a network namespace; the server's CPU per
# request comes from /proc/PID/stat around the wrk run.
#   python bench/app_bench.py [--secs 10] [--before 7b90303] [--notes 20]     (root)
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "tap"))
import netns  # noqa: E402

PY = os.path.join(ROOT, ".cache", "venv", "bin", "python")
MICROPYTHON = os.path.join(ROOT, "build", "unix", "micropython")
TICK = os.sysconf("SC_CLK_TCK")


def arg(name, default):
    a = sys.argv[1:]
    return type(default)(a[a.index(name) + 1]) if name in a else default


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / TICK       # utime + stime


def wrk(ns, url, secs, pid):
    c0 = cpu_s(pid)
    r = ns.run("wrk", "-t1", "-c10", "-d%ds" % secs, url, check=False, timeout=secs + 60)
    c1 = cpu_s(pid)
    rate = errors = None
    for line in r.stdout.splitlines():
        if line.startswith("Requests/sec:"):
            rate = float(line.split()[1])
        if "Non-2xx" in line or "Socket errors" in line:
            errors = line.strip()
    if rate is None:
        return None
    return rate, (c1 - c0) / (rate * secs) * 1e3, errors       # req/s, CPU ms per request


def morgana_cmd(tree):
    # the host tool of that tree: morgana.host.cli now, morgana.cli before the layout
    pylib = os.path.join(tree, "pylib")
    mod = "morgana.host.cli" if os.path.isdir(os.path.join(pylib, "morgana", "host")) \
        else "morgana.cli"
    env = dict(os.environ, PYTHONPATH=pylib, MORGANA_MICROPYTHON=MICROPYTHON)
    return [PY, "-m", mod], env


def configure(tree, bdir, config, target, *opts):
    cmd, env = morgana_cmd(tree)
    for step in (["configure", os.path.join(tree, config), "--target", target] + list(opts),
                 ["build"]):
        r = subprocess.run(cmd + ["-B", bdir] + step, cwd=tree, env=env,
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise SystemExit("morgana %s failed:\n%s%s" % (step[0], r.stdout, r.stderr))
    return cmd + ["-B", bdir, "run"], env


def wait_http(ns, url, proc, seconds=60):
    end = time.time() + seconds
    while time.time() < end:
        if ns.run("curl", "-s", "-o", "/dev/null", "--max-time", "1", url,
                  check=False).returncode == 0:
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.2)
    return False


def fill_notes(ns, base, n):
    for i in range(n):
        ns.run("curl", "-s", "-o", "/dev/null", "-X", "POST", "-H",
               "Content-Type: application/json", "--data-binary",
               json.dumps({"text": "note number %d" % (i + 1)}), base + "/api/notes")


def tap_row(tree, config, path, secs, notes, tmp, *opts):
    bdir = tempfile.mkdtemp(dir=tmp)
    run, env = configure(tree, bdir, config, "unix-tap", "PORT=80", "IP=" + netns.STACK_IP,
                         "TAP=tap0", *opts)
    ns = netns.Netns("appb")
    try:
        p = ns.popen(run, env=env, cwd=tree, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
        base = "http://%s" % netns.STACK_IP
        if not wait_http(ns, base + "/", p):
            return None
        fill_notes(ns, base, notes)
        return wrk(ns, base + path, secs, p.pid)
    finally:
        ns.close()


def veth_pair():
    ns = netns.Netns("appc", linux_ip=None)
    peer = netns.Netns("apps", linux_ip=None)
    netns.sh("ip", "link", "add", "va0", "netns", ns.name, "type", "veth", "peer",
             "name", "va1", "netns", peer.name)
    ns.run("ip", "addr", "add", "10.0.0.1/24", "dev", "va0")
    ns.run("ip", "link", "set", "va0", "up")
    peer.run("ip", "addr", "add", "10.0.0.2/24", "dev", "va1")
    peer.run("ip", "link", "set", "va1", "up")
    return ns, peer


def linux_row(cmd, env, cwd, secs, notes):
    ns, peer = veth_pair()
    try:
        p = peer.popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        base = "http://10.0.0.2"
        if not wait_http(ns, base + "/", p):
            return None
        fill_notes(ns, base, notes)
        return wrk(ns, base + "/api/notes", secs, p.pid)
    finally:
        peer.close()
        ns.close()


def main():
    why = netns.can_run()
    if why:
        raise SystemExit("app_bench: " + why)
    secs = arg("--secs", 10)
    before = arg("--before", "7b90303")
    notes = arg("--notes", 20)
    tmp = tempfile.mkdtemp(prefix="app-bench-")
    old = os.path.join(tmp, "before")
    subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", old, before],
                   check=True, capture_output=True)
    rows = []
    try:
        rows.append(("www static, before (%s)" % before, "unix-tap, MicroPython",
                     tap_row(old, "configs/www.py", "/index.html", secs, 0, tmp)))
        rows.append(("www static, now", "unix-tap, MicroPython",
                     tap_row(ROOT, "configs/www.py", "/index.html", secs, 0, tmp)))
        rows.append(("notes JSON, microdot", "unix-tap, MicroPython",
                     tap_row(ROOT, "configs/notes.py", "/api/notes", secs, notes, tmp)))
        bdir = tempfile.mkdtemp(dir=tmp)
        run, env = configure(ROOT, bdir, "configs/notes.py", "unix-socket", "PORT=80")
        rows.append(("notes JSON, microdot", "unix-socket, MicroPython",
                     linux_row(run, env, ROOT, secs, notes)))
        site = os.path.join(bdir, "notes", "site")
        rows.append(("notes JSON, microdot", "CPython asyncio, Linux",
                     linux_row([PY, os.path.join(HERE, "notes_cpython.py"), site, "80"],
                               dict(os.environ), ROOT, secs, notes)))
    finally:
        subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", old],
                       capture_output=True)
    report(rows, secs, notes)


def report(rows, secs, notes):
    print("wrk -t1 -c10 -d%ds from a namespace; notes holds %d notes (GET /api/notes is "
          "%s); CPU = the server process's user+system time per request" % (
              secs, notes, "a JSON list of them"))
    print("%-30s %-28s %10s %8s %12s  %s" % ("server", "where", "req/s", "ratio",
                                              "CPU ms/req", "errors"))
    ref = {}
    for what, where, r in rows:
        key = what.split(",")[0]
        if r is None:
            print("%-30s %-28s %10s" % (what, where, "fail"))
            continue
        rate, cpu, errors = r
        base = ref.setdefault(key, rate)
        print("%-30s %-28s %10.0f %7.2fx %12.3f  %s" % (what, where, rate, rate / base, cpu,
                                                       errors or ""))
    print("ratio: against the first row of the same server (www: before the rewrite; "
          "notes: unix-tap)")


if __name__ == "__main__":
    main()
