# morgana.logs: levels, per-source levels, line format with wall-clock timestamps.
import fake_xen                      # installs the fake `_xen` first
from morgana import logs, sched, plat_xen


def _capture():
    lines = []
    logs.set_reporter(lines.append)
    return lines


def _restore():
    logs.set_reporter(None)
    logs.set_level("info")
    sched.set_platform(None)


def test_timestamps_known_dates():
    assert logs.timestamp(0) == "1970-01-01 00:00:00.000"
    # 2000-02-29 is a leap day (divisible by 400); 1900 was not a leap year
    assert logs.timestamp(951782400 * 10**9 + 5 * 10**6) == "2000-02-29 00:00:00.005"
    assert logs.timestamp(1795492929 * 10**9 + 643 * 10**6) == "2026-11-24 04:02:09.643"
    assert logs.civil(-25508) == (1900, 3, 1)
    assert logs.civil(-25509) == (1900, 2, 28)
    assert logs.civil(11016) == (2000, 2, 29)


def test_line_format_uses_platform_wall_clock():
    fake_xen.reset()
    sched.set_platform(plat_xen)
    lines = _capture()
    # a known wall clock: 2023-11-14 22:13:20.250 (other tests move fake time on)
    fake_xen.advance(1700000000250000000 - fake_xen.wall_ns())
    try:
        logs.Src("hello").info("hello from instance %d iteration %d", 1, 0)
    finally:
        _restore()
    assert lines == [b"2023-11-14 22:13:20.250 [INFO] [hello] "
                     b"hello from instance 1 iteration 0\n"], lines


def test_levels_default_and_per_source():
    lines = _capture()
    try:
        a = logs.Src("a")
        b = logs.Src("b")
        a.debug("hidden")
        a.info("shown %s", "a")
        logs.set_level("debug", "b")
        b.debug("b debug")
        a.debug("a still hidden")
        logs.set_levels("error,a:warning")
        a.info("no")
        a.warning("a warn")
        b.warning("b follows the default now? no: it has its own level")
        logs.set_levels("quiet")
        a.error("still shown: a has its own level")
    finally:
        _restore()
        logs.Src("a").level = None
        logs.Src("b").level = None
    text = [l.decode().split("] ", 2)[2].strip() for l in lines]
    assert text == ["shown a", "b debug", "a warn",
                    "b follows the default now? no: it has its own level",
                    "still shown: a has its own level"], text
    assert b"[WARNING] [a]" in lines[2]


def test_same_source_object_per_name():
    assert logs.Src("x") is logs.Src("x")
    assert "x" in logs.sources()


def test_bad_level_named_in_error():
    try:
        logs.set_level("loud")
    except ValueError as e:
        assert "loud" in str(e)
    else:
        raise AssertionError("bad level accepted")


def test_args_not_formatted_when_disabled():
    class Boom:
        def __str__(self):
            raise AssertionError("formatted a disabled message")

    lines = _capture()
    try:
        logs.Src("lazy").debug("%s", Boom())
    finally:
        _restore()
    assert lines == []
