# Validators and ranges: entity-tag lists, byte-range sets against RFC 9110 examples.
from morgana.http import range as hr


def test_etags_and_none_match():
    e = b'"5-a"'
    assert hr.none_match(b'"5-a"', e)
    assert hr.none_match(b'W/"5-a"', e)                # weak comparison
    assert hr.none_match(b'"x", "5-a"', e)
    assert hr.none_match(b"*", e)
    assert not hr.none_match(b'"5-b"', e)
    assert not hr.none_match(b'5-a', e)                # unquoted: malformed, ignored
    assert not hr.none_match(b'"5-a', e)
    assert hr.etags(b'"a,b", W/"c"') == [(False, b'"a,b"'), (True, b'"c"')]
    assert hr.etags(b'"a"x') is None


def test_parse_range():
    assert hr.parse_range(b"bytes=0-9", 100) == [(0, 9)]
    assert hr.parse_range(b"bytes=90-", 100) == [(90, 99)]
    assert hr.parse_range(b"bytes=90-200", 100) == [(90, 99)]
    assert hr.parse_range(b"bytes=-10", 100) == [(90, 99)]
    assert hr.parse_range(b"bytes=-1000", 100) == [(0, 99)]
    assert hr.parse_range(b"Bytes = 1-2, ,4-5", 100) == [(1, 2), (4, 5)]
    assert hr.parse_range(b"bytes=100-,5-6", 100) == [(5, 6)]
    for ignored in (b"items=0-1", b"bytes=5-1", b"bytes=a-b", b"bytes=1", b"bytes=",
                    b"bytes=,", b"bytes=--1", b"bytes=0-1" + b",0-1" * 20):
        assert hr.parse_range(ignored, 100) is None, ignored
    for unsat in (b"bytes=100-", b"bytes=-0", b"bytes=200-300", b"bytes=0-"):
        try:
            hr.parse_range(unsat, 100 if unsat != b"bytes=0-" else 0)
        except hr.Unsatisfiable:
            continue
        raise AssertionError("satisfiable? %r" % unsat)
    assert hr.coalesce([(50, 60), (0, 9), (10, 20), (55, 70)]) == [(0, 20), (50, 70)]


def test_if_match_strong():
    e = b'"5-a"'
    assert hr.match(b'"5-a"', e) and hr.match(b"*", e) and hr.match(b'"q", "5-a"', e)
    assert not hr.match(b'W/"5-a"', e)
    assert not hr.match(b'"5-b"', e)
    assert not hr.match(b"5-a", e)
