"""Run microdot's own test suite (tests/test_*.py of its sdist) on MicroPython or CPython.

    MICROPYPATH=<sdist>/src:<sdist>:<utemplate>:tests/microdot/mplib:pylib:pylib/compat \
        build/unix/micropython tests/microdot/run_suite.py --root <sdist> [options] [module ...]

(absolute paths: the working directory becomes the sdist root, as the tests open
tests/files/... and tests/templates). Modules are names like test_microdot (default:
every tests/test_*.py of the sdist, sorted). Output, one line per test, flushed:

    ASYNCIO impl=micropython file=/.../pylib/compat/asyncio/__init__.py morgana=morgana.aio,...
    PASS test_microdot.TestMicrodot.test_get_request
    FAIL test_x.TestX.test_y: AssertionError('...')       (assert failed)
    ERROR test_x.TestX.test_z: TypeError('...')            (any other exception)
    ERROR test_x (import): ImportError('...')              (the module does not import)
    ERROR test_x.TestX.setUpClass: ...                     (class fixture failed)
    SKIP test_x.TestX.test_w: reason
        | traceback lines (after FAIL/ERROR)
    N passed, N failed, N skipped                          (failed counts FAIL and ERROR)

Options: --trace prints `RUN id` before each test (so a driver knows which one hung);
--exclude ID (repeatable) leaves a test out; --list prints the test ids and stops;
--quiet leaves out the tracebacks.
The same code runs on CPython with its own unittest; on MicroPython tests/microdot/mplib
provides unittest (and jwt for microdot.session).
"""
import os
import sys
import unittest

try:
    import io
except ImportError:  # pragma: no cover
    import uio as io

MICROPYTHON = sys.implementation.name == "micropython"


def _flush():
    try:
        sys.stdout.flush()
    except AttributeError:
        pass


def out(line):
    print(line)
    _flush()


def one_line(e):
    s = repr(e)
    s = s.replace("\n", "\\n")
    return s if len(s) <= 300 else s[:297] + "..."


def traceback_text(e):
    buf = io.StringIO()
    if MICROPYTHON:
        sys.print_exception(e, buf)
    else:
        import traceback
        traceback.print_exception(type(e), e, e.__traceback__, file=buf)
    return buf.getvalue()


def short_id(test):
    tid = test.id()
    if tid.endswith(")") and " (" in tid:
        # a class/module fixture error: "setUpClass (tests.mod.Class)" -> mod.Class.setUpClass
        what, _, where = tid[:-1].partition(" (")
        tid = where + "." + what
    return tid[6:] if tid.startswith("tests.") else tid


class LineResult(unittest.TestResult):
    """Prints one line per test as it ends; keeps the counts."""

    def __init__(self, trace=False, quiet=False):
        unittest.TestResult.__init__(self)
        self.trace = trace
        self.quiet = quiet
        self.n_pass = self.n_fail = self.n_error = self.n_skip = 0

    def startTest(self, test):
        unittest.TestResult.startTest(self, test)
        if self.trace:
            out("RUN %s" % short_id(test))

    def _report(self, word, test, exc):
        out("%s %s: %s" % (word, short_id(test), one_line(exc)))
        if not self.quiet:
            for line in traceback_text(exc).rstrip().split("\n"):
                out("    | " + line)

    def addSuccess(self, test):
        self.n_pass += 1
        out("PASS %s" % short_id(test))

    def addFailure(self, test, err):
        self.n_fail += 1
        self._report("FAIL", test, _exc_of(err))

    def addError(self, test, err):
        self.n_error += 1
        self._report("ERROR", test, _exc_of(err))

    def addSkip(self, test, reason):
        self.n_skip += 1
        out("SKIP %s: %s" % (short_id(test), reason))

    def addExpectedFailure(self, test, err):
        self.n_pass += 1
        out("PASS %s: expected failure" % short_id(test))

    def addUnexpectedSuccess(self, test):
        self.n_fail += 1
        out("FAIL %s: unexpected success" % short_id(test))


def _exc_of(err):
    # CPython's unittest hands (type, value, traceback); ours hands the exception.
    if isinstance(err, tuple):
        return err[1]
    return err


def asyncio_line():
    try:
        import asyncio
    except Exception as e:
        return "ASYNCIO impl=%s error=%s" % (sys.implementation.name, one_line(e))
    f = getattr(asyncio, "__file__", None)
    morgana = sorted(m for m in sys.modules if m == "morgana" or m.startswith("morgana."))
    return "ASYNCIO impl=%s file=%s morgana=%s" % (
        sys.implementation.name, f, ",".join(morgana) if morgana else "-")


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            for u in iter_tests(t):
                yield u
        else:
            yield t


def load_module(name):
    mod = __import__("tests." + name)
    return getattr(mod, name)


def run_module(name, result, exclude, listing):
    try:
        mod = load_module(name)
    except Exception as e:
        if listing:
            out("IMPORT-ERROR %s: %s" % (name, one_line(e)))
        else:
            result.n_error += 1
            out("ERROR %s (import): %s" % (name, one_line(e)))
            if not result.quiet:
                for line in traceback_text(e).rstrip().split("\n"):
                    out("    | " + line)
        return
    suite = unittest.TestLoader().loadTestsFromModule(mod)
    tests = [t for t in iter_tests(suite) if short_id(t) not in exclude]
    if listing:
        for t in tests:
            out(short_id(t))
        return
    for t in iter_tests(suite):
        if short_id(t) in exclude:
            out("EXCLUDED %s" % short_id(t))
    unittest.TestSuite(tests).run(result)


def main(argv):
    root = None
    trace = quiet = listing = False
    exclude = set()
    modules = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--root":
            root = argv[i + 1]
            i += 1
        elif a == "--exclude":
            exclude.add(argv[i + 1])
            i += 1
        elif a == "--trace":
            trace = True
        elif a == "--quiet":
            quiet = True
        elif a == "--list":
            listing = True
        else:
            modules.append(a[:-3] if a.endswith(".py") else a)
        i += 1
    if root is None:
        root = os.getenv("MICRODOT_SDIST") or "."
    os.chdir(root)
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")
    if not modules:
        modules = sorted(n[:-3] for n in os.listdir("tests")
                         if n.startswith("test_") and n.endswith(".py"))
    out(asyncio_line())
    result = LineResult(trace=trace, quiet=quiet)
    for name in modules:
        run_module(name, result, exclude, listing)
    if listing:
        return 0
    failed = result.n_fail + result.n_error
    out("%d passed, %d failed, %d skipped" % (result.n_pass, failed, result.n_skip))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
