# Runs MicroPython test-suite scripts one after another and frames each one's output,
# so a host can split a console log into per-test outputs. Used unchanged in the Xen
# guest (sources frozen into the image) and on the Unix port (same sources, same code).
import gc
import sys

BEGIN = "@@@ BEGIN "
END = "@@@ END "


def unlock_heap():
    try:
        import micropython
        while micropython.heap_unlock():
            pass
    except (ImportError, AttributeError):
        pass


def run_one(name, src):
    print(BEGIN + name)
    g = {"__name__": "__main__", "__file__": name}
    try:
        exec(src, g)
    except SystemExit:
        pass
    except BaseException as e:  # the test's own failure: report it like an uncaught one
        unlock_heap()
        sys.print_exception(e, sys.stdout)
    unlock_heap()  # a test that failed while holding micropython.heap_lock()
    print(END + name)


def run(tests, first=0):
    for i in range(first, len(tests)):
        name, src = tests[i]
        run_one(name, src)
        gc.collect()
    print("@@@ DONE %d" % len(tests))
