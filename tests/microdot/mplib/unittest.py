"""A small `unittest` for MicroPython, written for running microdot's test suite
(tests/microdot/run_suite.py). Only on MicroPython's path: CPython uses its own unittest.

The subset: TestCase (setUpClass/tearDownClass, setUp/tearDown, the assert* methods,
assertRaises as a call or a context manager, skipTest, fail, id), the skip/skipIf/
skipUnless/expectedFailure decorators (on methods and classes), TestSuite, TestLoader
.loadTestsFromModule/loadTestsFromTestCase, TestResult and main(). Loading, ordering
and class set-up follow CPython's rules: classes and methods sorted by name, setUpClass
once per class before its first test, a skipped class never set up.

MicroPython functions take no attributes, so a skipped method is replaced by a stub
recorded in _SKIPPED (stub -> reason) instead of carrying __unittest_skip__.
"""
import sys

try:
    import io
except ImportError:  # pragma: no cover
    import uio as io


class SkipTest(Exception):
    pass


_SKIPPED = {}        # stub function -> reason
_EXPECTED_FAIL = {}  # wrapper function -> True


def _format_exc(e):
    buf = io.StringIO()
    if hasattr(sys, "print_exception"):
        sys.print_exception(e, buf)
    else:  # pragma: no cover (CPython never loads this module)
        import traceback
        traceback.print_exception(type(e), e, e.__traceback__, file=buf)
    return buf.getvalue()


def _is_class(obj):
    return isinstance(obj, type)


def skip(reason):
    def deco(obj):
        if _is_class(obj):
            obj.__unittest_skip__ = True
            obj.__unittest_skip_why__ = reason
            return obj

        def skipped_test(*args, **kwargs):
            raise SkipTest(reason)
        _SKIPPED[skipped_test] = reason
        return skipped_test
    return deco


def _keep(obj):
    return obj


def skipIf(condition, reason):
    return skip(reason) if condition else _keep


def skipUnless(condition, reason):
    return skip(reason) if not condition else _keep


def expectedFailure(f):
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs)
    _EXPECTED_FAIL[wrapper] = True
    return wrapper


class _AssertRaises:
    def __init__(self, case, expected):
        self.case = case
        self.expected = expected
        self.exception = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, tb):
        if exc_type is None:
            name = getattr(self.expected, "__name__", str(self.expected))
            raise AssertionError("%s not raised" % name)
        if not issubclass(exc_type, self.expected):
            return False   # let the unexpected exception through
        self.exception = exc_value
        return True


class TestCase:
    failureException = AssertionError
    longMessage = True
    maxDiff = 80 * 8

    def __init__(self, methodName="runTest"):
        self._testMethodName = methodName

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, self._testMethodName)

    def id(self):
        cls = type(self)
        return "%s.%s.%s" % (getattr(cls, "__module__", "?"), cls.__name__, self._testMethodName)

    def shortDescription(self):
        return None

    @classmethod
    def setUpClass(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        pass

    def setUp(self):
        pass

    def tearDown(self):
        pass

    def skipTest(self, reason):
        raise SkipTest(reason)

    def fail(self, msg=None):
        raise self.failureException(msg or "fail() called")

    def _fail(self, default, msg):
        if msg is None:
            msg = default
        elif self.longMessage:
            msg = "%s : %s" % (default, msg)
        raise self.failureException(msg)

    # --- assertions -----------------------------------------------------------------
    def assertEqual(self, first, second, msg=None):
        if not first == second:
            self._fail("%r != %r" % (first, second), msg)

    def assertNotEqual(self, first, second, msg=None):
        if not first != second:
            self._fail("%r == %r" % (first, second), msg)

    def assertTrue(self, expr, msg=None):
        if not expr:
            self._fail("%r is not true" % (expr,), msg)

    def assertFalse(self, expr, msg=None):
        if expr:
            self._fail("%r is not false" % (expr,), msg)

    def assertIs(self, first, second, msg=None):
        if first is not second:
            self._fail("%r is not %r" % (first, second), msg)

    def assertIsNot(self, first, second, msg=None):
        if first is second:
            self._fail("unexpectedly identical: %r" % (first,), msg)

    def assertIsNone(self, obj, msg=None):
        if obj is not None:
            self._fail("%r is not None" % (obj,), msg)

    def assertIsNotNone(self, obj, msg=None):
        if obj is None:
            self._fail("unexpectedly None", msg)

    def assertIn(self, member, container, msg=None):
        if member not in container:
            self._fail("%r not found in %r" % (member, container), msg)

    def assertNotIn(self, member, container, msg=None):
        if member in container:
            self._fail("%r unexpectedly found in %r" % (member, container), msg)

    def assertIsInstance(self, obj, cls, msg=None):
        if not isinstance(obj, cls):
            self._fail("%r is not an instance of %r" % (obj, cls), msg)

    def assertNotIsInstance(self, obj, cls, msg=None):
        if isinstance(obj, cls):
            self._fail("%r is an instance of %r" % (obj, cls), msg)

    def assertGreater(self, a, b, msg=None):
        if not a > b:
            self._fail("%r not greater than %r" % (a, b), msg)

    def assertGreaterEqual(self, a, b, msg=None):
        if not a >= b:
            self._fail("%r not greater than or equal to %r" % (a, b), msg)

    def assertLess(self, a, b, msg=None):
        if not a < b:
            self._fail("%r not less than %r" % (a, b), msg)

    def assertLessEqual(self, a, b, msg=None):
        if not a <= b:
            self._fail("%r not less than or equal to %r" % (a, b), msg)

    def assertAlmostEqual(self, first, second, places=7, msg=None, delta=None):
        if first == second:
            return
        diff = abs(first - second)
        if delta is not None:
            if diff <= delta:
                return
            self._fail("%r != %r within %r delta" % (first, second, delta), msg)
        if round(diff, places) == 0:
            return
        self._fail("%r != %r within %r places" % (first, second, places), msg)

    def assertRaises(self, expected, *args, **kwargs):
        ctx = _AssertRaises(self, expected)
        if not args:
            return ctx
        with ctx:
            args[0](*args[1:], **kwargs)
        return ctx

    assertEquals = assertEqual
    assertNotEquals = assertNotEqual

    # --- running --------------------------------------------------------------------
    def run(self, result=None):
        if result is None:
            result = TestResult()
        result.startTest(self)
        try:
            method = getattr(type(self), self._testMethodName)
            reason = _SKIPPED.get(method)
            if reason is None and getattr(type(self), "__unittest_skip__", False):
                reason = getattr(type(self), "__unittest_skip_why__", "")
            if reason is not None:
                result.addSkip(self, reason)
                return result
            expecting_failure = method in _EXPECTED_FAIL
            try:
                self.setUp()
            except SkipTest as e:
                result.addSkip(self, str(e))
                return result
            except Exception as e:
                result.addError(self, e)
                return result
            outcome = None
            try:
                getattr(self, self._testMethodName)()
            except SkipTest as e:
                outcome = ("skip", e)
            except AssertionError as e:
                outcome = ("fail", e)
            except Exception as e:
                outcome = ("error", e)
            try:
                self.tearDown()
            except Exception as e:
                if outcome is None or outcome[0] == "skip":
                    outcome = ("error", e)
            if expecting_failure:
                if outcome is not None and outcome[0] in ("fail", "error"):
                    result.addExpectedFailure(self, outcome[1])
                elif outcome is None:
                    result.addUnexpectedSuccess(self)
                else:
                    result.addSkip(self, str(outcome[1]))
            elif outcome is None:
                result.addSuccess(self)
            elif outcome[0] == "skip":
                result.addSkip(self, str(outcome[1]))
            elif outcome[0] == "fail":
                result.addFailure(self, outcome[1])
            else:
                result.addError(self, outcome[1])
        finally:
            result.stopTest(self)
        return result

    __call__ = run


class TestResult:
    def __init__(self):
        self.testsRun = 0
        self.failures = []
        self.errors = []
        self.skipped = []
        self.expectedFailures = []
        self.unexpectedSuccesses = []
        self.shouldStop = False

    def startTest(self, test):
        self.testsRun += 1

    def stopTest(self, test):
        pass

    def addSuccess(self, test):
        pass

    def addFailure(self, test, err):
        self.failures.append((test, _format_exc(err)))

    def addError(self, test, err):
        self.errors.append((test, _format_exc(err)))

    def addSkip(self, test, reason):
        self.skipped.append((test, reason))

    def addExpectedFailure(self, test, err):
        self.expectedFailures.append((test, _format_exc(err)))

    def addUnexpectedSuccess(self, test):
        self.unexpectedSuccesses.append(test)

    def wasSuccessful(self):
        return not self.failures and not self.errors and not self.unexpectedSuccesses


class _ClassSetUpError(TestCase):
    """Stands for a class whose setUpClass raised (reported as one error, as CPython)."""
    def __init__(self, cls, exc):
        TestCase.__init__(self, "setUpClass")
        self._cls = cls
        self._exc = exc

    def id(self):
        return "setUpClass (%s.%s)" % (getattr(self._cls, "__module__", "?"), self._cls.__name__)


class TestSuite:
    def __init__(self, tests=()):
        self._tests = []
        for t in tests:
            self.addTest(t)

    def addTest(self, test):
        self._tests.append(test)

    def addTests(self, tests):
        for t in tests:
            self.addTest(t)

    def __iter__(self):
        return iter(self._tests)

    def countTestCases(self):
        n = 0
        for t in self._tests:
            n += t.countTestCases() if isinstance(t, TestSuite) else 1
        return n

    def _flat(self):
        for t in self._tests:
            if isinstance(t, TestSuite):
                for u in t._flat():
                    yield u
            else:
                yield t

    def run(self, result):
        current = None      # class set up (or whose set-up failed)
        failed_setup = False
        for test in self._flat():
            if result.shouldStop:
                break
            cls = type(test)
            if cls is not current:
                if current is not None and not failed_setup and \
                        not getattr(current, "__unittest_skip__", False):
                    _tear_down_class(current, result)
                current = cls
                failed_setup = False
                if not getattr(cls, "__unittest_skip__", False):
                    try:
                        cls.setUpClass()
                    except Exception as e:
                        failed_setup = True
                        err = _ClassSetUpError(cls, e)
                        result.startTest(err)
                        result.addError(err, e)
                        result.stopTest(err)
            if failed_setup:
                continue
            test.run(result)
        if current is not None and not failed_setup and \
                not getattr(current, "__unittest_skip__", False):
            _tear_down_class(current, result)
        return result

    __call__ = run


def _tear_down_class(cls, result):
    try:
        cls.tearDownClass()
    except Exception as e:
        err = _ClassSetUpError(cls, e)
        err._testMethodName = "tearDownClass"
        result.startTest(err)
        result.addError(err, e)
        result.stopTest(err)


class TestLoader:
    testMethodPrefix = "test"

    def getTestCaseNames(self, cls):
        names = []
        for name in dir(cls):
            if name.startswith(self.testMethodPrefix) and callable(getattr(cls, name)):
                names.append(name)
        names.sort()
        return names

    def loadTestsFromTestCase(self, cls):
        return TestSuite([cls(name) for name in self.getTestCaseNames(cls)])

    def loadTestsFromModule(self, module):
        suite = TestSuite()
        for name in sorted(dir(module)):
            obj = getattr(module, name)
            if _is_class(obj) and issubclass(obj, TestCase) and obj is not TestCase:
                suite.addTest(self.loadTestsFromTestCase(obj))
        return suite


defaultTestLoader = TestLoader()


class TextTestRunner:
    def __init__(self, stream=None, verbosity=1):
        self.verbosity = verbosity

    def run(self, suite):
        result = TestResult()
        suite.run(result)
        for test, tb in result.failures + result.errors:
            print("FAIL" if (test, tb) in result.failures else "ERROR", test.id())
            print(tb)
        print("Ran %d tests: %d failures, %d errors, %d skipped" % (
            result.testsRun, len(result.failures), len(result.errors), len(result.skipped)))
        return result


def main(module="__main__", exit=True):
    if isinstance(module, str):
        module = __import__(module)
        for part in module.__name__.split(".")[1:]:
            module = getattr(module, part)
    result = TextTestRunner().run(defaultTestLoader.loadTestsFromModule(module))
    if exit:
        sys.exit(0 if result.wasSuccessful() else 1)
    return result
