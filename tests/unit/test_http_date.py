# HTTP dates: formatting known instants, calendar arithmetic, the three parse formats.
from morgana.http import date as hd


def test_http_date_known_values():
    assert hd.http_date(0) == b"Thu, 01 Jan 1970 00:00:00 GMT"
    assert hd.http_date(784111777) == b"Sun, 06 Nov 1994 08:49:37 GMT"
    assert hd.http_date(951782400) == b"Tue, 29 Feb 2000 00:00:00 GMT"
    assert hd.http_date(4102444799) == b"Thu, 31 Dec 2099 23:59:59 GMT"
    assert hd.http_date(4107542399) == b"Sun, 28 Feb 2100 23:59:59 GMT"   # 2100: no leap


def test_civil_days_round_trip():
    for days in (-719468, -1, 0, 1, 59, 60, 365, 10957, 11016, 19000, 2932896):
        y, m, d = hd.civil_from_days(days)
        assert hd.days_from_civil(y, m, d) == days, days


def test_parse_http_date_three_formats():
    t = 784111777
    assert hd.parse_http_date(b"Sun, 06 Nov 1994 08:49:37 GMT") == t
    assert hd.parse_http_date(b"Sunday, 06-Nov-94 08:49:37 GMT") == t
    assert hd.parse_http_date(b"Sun Nov  6 08:49:37 1994") == t
    assert hd.parse_http_date(b" Sun, 06 Nov 1994 08:49:37 GMT ") == t
    for bad in (b"", b"yesterday", b"Sun, 06 Nov 1994 08:49:37 UTC",
                b"Sun, 31 Feb 1994 08:49:37 GMT", b"Sun, 06 Foo 1994 08:49:37 GMT",
                b"Sun, 06 Nov 1994 24:00:00 GMT", b"Sun, 6 Nov 1994 08:49:37 GMT",
                b"Sun, 06 Nov 94 08:49:37 GMT", b"Sun, 06 Nov 1994 08:49 GMT",
                b"Xyz, 06 Nov 1994 08:49:37 GMT", b"Sun, 06 Nov 1994 08:4a:37 GMT"):
        assert hd.parse_http_date(bad) is None, bad
