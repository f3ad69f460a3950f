# HTTP dates (RFC 9110 5.6.7): IMF-fixdate out; IMF-fixdate, RFC 850 and asctime in.
# Pure arithmetic on the proleptic Gregorian calendar: MicroPython has no time.strftime.


_DAYS = (b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed")   # 1970-01-01 = Thursday
_MONTHS = (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep",
           b"Oct", b"Nov", b"Dec")
_LONGDAYS = (b"Monday", b"Tuesday", b"Wednesday", b"Thursday", b"Friday", b"Saturday",
             b"Sunday")


def civil_from_days(z):
    """Days since 1970-01-01 -> (year, month, day), proleptic Gregorian."""
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return y, m, d


def days_from_civil(y, m, d):
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    mp = m - 3 if m > 2 else m + 9
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def http_date(t):
    """Seconds since the epoch -> b'Sun, 06 Nov 1994 08:49:37 GMT'."""
    t = int(t)
    days = t // 86400
    secs = t - days * 86400
    y, m, d = civil_from_days(days)
    return b"%s, %02d %s %04d %02d:%02d:%02d GMT" % (
        _DAYS[days % 7], d, _MONTHS[m - 1], y, secs // 3600, secs // 60 % 60, secs % 60)


def _num(b, lo, hi):
    if not b or not b.isdigit():
        return None
    v = int(b)
    return v if lo <= v <= hi else None


def _hms(b):
    p = b.split(b":")
    if len(p) != 3 or len(b) != 8:
        return None
    h = _num(p[0], 0, 23)
    mi = _num(p[1], 0, 59)
    s = _num(p[2], 0, 60)
    if h is None or mi is None or s is None:
        return None
    return h * 3600 + mi * 60 + s


def _epoch(y, mon, d, hms):
    if y is None or d is None or hms is None or mon not in _MONTHS:
        return None
    m = _MONTHS.index(mon) + 1
    mdays = (31, 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28, 31, 30,
             31, 30, 31, 31, 30, 31, 30, 31)[m - 1]
    if d > mdays:
        return None
    return days_from_civil(y, m, d) * 86400 + hms


def parse_http_date(b):
    """IMF-fixdate, RFC 850 or asctime (RFC 9110 5.6.7) -> epoch seconds, or None."""
    b = b.strip(b" \t")
    p = b.split(b" ")
    if len(p) == 6 and p[5] == b"GMT" and p[0][-1:] == b",":            # IMF-fixdate
        if p[0][:-1] not in _DAYS or len(p[1]) != 2:
            return None
        return _epoch(_num(p[3], 1, 9999) if len(p[3]) == 4 else None, p[2],
                      _num(p[1], 1, 31), _hms(p[4]))
    if len(p) == 4 and p[3] == b"GMT" and p[0][-1:] == b",":            # RFC 850
        if p[0][:-1] not in _LONGDAYS:
            return None
        dmy = p[1].split(b"-")
        if len(dmy) != 3 or len(dmy[0]) != 2 or len(dmy[2]) != 2:
            return None
        yy = _num(dmy[2], 0, 99)
        if yy is None:
            return None
        y = 1900 + yy if yy >= 70 else 2000 + yy   # RFC 9110: 50-year window, simplified
        return _epoch(y, dmy[1], _num(dmy[0], 1, 31), _hms(p[2]))
    if len(p) >= 5 and p[0] in _DAYS:                                    # asctime
        p = [x for x in p if x]
        if len(p) != 5 or len(p[4]) != 4:
            return None
        return _epoch(_num(p[4], 1, 9999), p[1], _num(p[2], 1, 31), _hms(p[3]))
    return None
