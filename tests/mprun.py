# Run portable unit tests (tests/unit/test_*.py) on MicroPython (or CPython):
#   micropython tests/mprun.py test_sched test_ipv4 ...
# Every module-level function named test_* is called; an AssertionError or any other
# exception is a failure. Prints one line per failure and the closing "N passed, N failed".
import sys


def run_module(name):
    passed = failed = 0
    try:
        mod = __import__(name)
    except Exception as e:
        print("FAIL %s (import): %r" % (name, e))
        sys.print_exception(e) if hasattr(sys, "print_exception") else None
        return 0, 1
    for attr in sorted(dir(mod)):
        if not attr.startswith("test_"):
            continue
        fn = getattr(mod, attr)
        if not callable(fn):
            continue
        try:
            fn()
            passed += 1
        except Exception as e:
            failed += 1
            print("FAIL %s.%s: %r" % (name, attr, e))
            if hasattr(sys, "print_exception"):
                sys.print_exception(e)
    return passed, failed


def main(names):
    total_p = total_f = 0
    for n in names:
        if n.endswith(".py"):
            n = n.rsplit("/", 1)[-1][:-3]
        p, f = run_module(n)
        print("%-28s %d passed, %d failed" % (n, p, f))
        total_p += p
        total_f += f
    print("%d passed, %d failed" % (total_p, total_f))
    return total_f


if __name__ == "__main__":
    sys.exit(1 if main(sys.argv[1:]) else 0)
