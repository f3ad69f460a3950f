"""Score MicroPython's own tests in the Xen guest against the same tests on the Unix port.

    python3 compare.py MPY_DIR SUITE_DIR GUEST_CONSOLE_LOG [--unix MICROPYTHON] [--json OUT]

Expected output of a test: its .exp file when MicroPython ships one, else what CPython
prints (as MicroPython's run-tests.py does); a test printing SKIP is skipped; a test whose
reference cannot be made (CPython fails on it, no .exp) is skipped as "no reference".
The Unix port runs every test in its own process through the same runner.py as the guest.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import runner  # noqa: E402


def split_log(text):
    """{test name: output} from a console log framed by runner.py."""
    out, name, buf = {}, None, []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith(runner.BEGIN):
            name, buf = line[len(runner.BEGIN):].strip(), []
        elif line.startswith(runner.END) and name is not None:
            out[name] = "\n".join(buf) + ("\n" if buf else "")
            name = None
        elif name is not None:
            buf.append(line)
    return out


def expected(mpy_dir, name):
    path = os.path.join(mpy_dir, "tests", name)
    if os.path.exists(path + ".exp"):
        with open(path + ".exp", encoding="utf-8", errors="replace") as f:
            return f.read()
    r = subprocess.run([sys.executable, os.path.basename(path)], cwd=os.path.dirname(path),
                       capture_output=True, timeout=60,
                       env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    if r.returncode != 0:
        return None
    return r.stdout.decode("utf-8", "replace")


ROOT = os.path.dirname(os.path.dirname(HERE))
# the asyncio tests import our asyncio (pylib/compat first), as frozen in the guest
ASYNCIO_PATH = [os.path.join(ROOT, "pylib", "compat"), os.path.join(ROOT, "pylib")]


def run_unix(micropython, mpy_dir, suite_dir, index, name, src=""):
    d = os.path.join(mpy_dir, "tests", os.path.dirname(name))
    path = [suite_dir, HERE, "."]
    if "asyncio" in src:                  # as build_suite.uses_asyncio
        path = ASYNCIO_PATH + path
    code = ("import sys; sys.path[:0]=%r; import runner, _suite; "
            "runner.run_one(*_suite.TESTS[%d])" % (path, index))
    try:
        r = subprocess.run([micropython, "-X", "heapsize=64M", "-c", code], cwd=d,
                           capture_output=True, timeout=60)
        text = r.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        text = runner.BEGIN + name + "\nTIMEOUT\n" + runner.END + name + "\n"
    return split_log(text).get(name, "CRASH (exit %s)\n" % getattr(r, "returncode", "?"))


def verdict(out, exp):
    if out is None:
        return "missing"
    if out.startswith("SKIP"):
        return "skip"
    if exp is None:
        return "noref"
    return "pass" if out == exp else "fail"


def main():
    args = sys.argv[1:]
    mpy_dir, suite_dir, guest_log = args[0], os.path.abspath(args[1]), args[2]
    micropython = args[args.index("--unix") + 1] if "--unix" in args else "micropython"
    if os.sep in micropython:
        micropython = os.path.abspath(micropython)
    sys.path.insert(0, suite_dir)
    import _suite
    with open(guest_log, encoding="utf-8", errors="replace") as f:
        guest = split_log(f.read())
    rows = []
    for i, (name, src) in enumerate(_suite.TESTS):
        exp = expected(mpy_dir, name)
        u = run_unix(micropython, mpy_dir, suite_dir, i, name, src)
        g = guest.get(name)
        rows.append((name, verdict(u, exp), verdict(g, exp), u, g, exp))
    count = lambda col, v: sum(1 for r in rows if r[col] == v)
    print("%-8s %6s %6s %6s %8s %8s" % ("where", "pass", "fail", "skip", "noref", "missing"))
    for label, col in (("unix", 1), ("xen", 2)):
        print("%-8s %6d %6d %6d %8d %8d" % (label, count(col, "pass"), count(col, "fail"),
              count(col, "skip"), count(col, "noref"), count(col, "missing")))
    unix_pass = [r for r in rows if r[1] == "pass"]
    both = [r for r in unix_pass if r[2] == "pass"]
    ratio = len(both) / len(unix_pass) if unix_pass else 0.0
    print("guest passes %d of the %d tests that pass on unix: %.1f%%"
          % (len(both), len(unix_pass), 100 * ratio))
    print("differences (unix verdict -> xen verdict: first differing line):")
    for name, uv, gv, u, g, exp in rows:
        if uv != gv:
            first = ""
            if g is not None and exp is not None:
                gl, el = g.split("\n"), exp.split("\n")
                for k in range(max(len(gl), len(el))):
                    a = gl[k] if k < len(gl) else "<end>"
                    b = el[k] if k < len(el) else "<end>"
                    if a != b:
                        first = "got %r, expected %r" % (a[:70], b[:70])
                        break
            print("  %-40s %s -> %s  %s" % (name, uv, gv, first))
    if "--json" in args:
        with open(args[args.index("--json") + 1], "w") as f:
            json.dump({"ratio": ratio, "unix_pass": len(unix_pass), "both_pass": len(both),
                       "rows": [r[:3] for r in rows]}, f)
    return ratio


if __name__ == "__main__":
    main()
