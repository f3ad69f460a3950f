# Logging in the style of Mirage's Logs: named sources with their own level, a default
# level, and lines stamped with the platform wall clock, written to the platform console:
#   2026-11-24 12:00:00.123 [INFO] [hello] hello from instance 1 iteration 0
from morgana import sched

DEBUG = 10
INFO = 20
WARNING = 30
ERROR = 40
QUIET = 100                  # nothing is logged

_NAMES = {DEBUG: "DEBUG", INFO: "INFO", WARNING: "WARNING", ERROR: "ERROR"}
_BY_NAME = {"debug": DEBUG, "info": INFO, "warning": WARNING, "warn": WARNING,
            "error": ERROR, "quiet": QUIET}

_default = [INFO]
_sources = {}                # name -> Src
_reporter = [None]           # fn(line bytes); None: the platform console


def level_of(name):
    """Level constant from its name ('info', 'DEBUG'...); ValueError naming it if bad."""
    if isinstance(name, int):
        return name
    lv = _BY_NAME.get(str(name).lower())
    if lv is None:
        raise ValueError("unknown log level %r (expected one of debug, info, warning, "
                         "error, quiet)" % (name,))
    return lv


def set_level(level, src=None):
    """Default level for all sources, or the level of the source named src."""
    lv = level_of(level)
    if src is None:
        _default[0] = lv
    else:
        Src(src).level = lv


def set_levels(spec):
    """'info' or 'warning,http:debug,tcp:error': default then per-source levels."""
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if ":" in part:
            name, lv = part.split(":", 1)
            set_level(lv, name.strip())
        else:
            set_level(part)


def set_reporter(fn):
    """fn(line_bytes) receives every line (None: back to the platform console)."""
    _reporter[0] = fn


def sources():
    return sorted(_sources)


def _two(n):
    return ("0" + str(n)) if n < 10 else str(n)


def civil(days):
    """(year, month, day) of a day count since 1970-01-01 (proleptic Gregorian)."""
    # Shift the epoch to 0000-03-01 so the leap day is the last day of a year; eras are
    # 400-year cycles of 146097 days.
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (1 if m <= 2 else 0)
    return y, m, d


def timestamp(wall_ns):
    """'YYYY-MM-DD hh:mm:ss.mmm' (UTC) of nanoseconds since the epoch."""
    ms = wall_ns // 1000000
    secs = ms // 1000
    days = secs // 86400
    s = secs - days * 86400
    y, m, d = civil(days)
    return "%d-%s-%s %s:%s:%s.%s" % (y, _two(m), _two(d), _two(s // 3600),
                                     _two(s // 60 % 60), _two(s % 60),
                                     str(1000 + ms % 1000)[1:])


def format_line(wall_ns, level, src, msg):
    return "%s [%s] [%s] %s\n" % (timestamp(wall_ns), _NAMES.get(level, str(level)),
                                  src, msg)


class Src:
    """A log source: Src('http') returns the same object for the same name."""

    def __new__(cls, name, level=None):
        s = _sources.get(name)
        if s is None:
            s = object.__new__(cls)
            s.name = name
            s.level = None
            _sources[name] = s
        if level is not None:
            s.level = level_of(level)
        return s

    def __init__(self, name, level=None):
        pass

    def enabled(self, level):
        lv = self.level
        return level >= (_default[0] if lv is None else lv)

    def log(self, level, msg, *args):
        if not self.enabled(level):
            return
        if args:
            msg = msg % args          # formatted only when the line is emitted
        plat = sched.platform()
        line = format_line(plat.wall_ns(), level, self.name, msg).encode()
        rep = _reporter[0]
        if rep is None:
            plat.write_console(line)
        else:
            rep(line)

    def debug(self, msg, *args):
        self.log(DEBUG, msg, *args)

    def info(self, msg, *args):
        self.log(INFO, msg, *args)

    def warning(self, msg, *args):
        self.log(WARNING, msg, *args)

    warn = warning

    def error(self, msg, *args):
        self.log(ERROR, msg, *args)
