# Validators and ranges (RFC 9110 13.1.2 and 14): entity-tag lists for If-None-Match,
# byte-range sets for Range. Pure functions over header values (bytes).


def etags(value):
    """If-None-Match / If-Match list -> ('*',) or list of (weak, opaque-tag bytes incl.
    quotes); None when malformed (the caller then ignores the field)."""
    v = value.strip(b" \t")
    if v == b"*":
        return ("*",)
    out = []
    i = 0
    n = len(v)
    while i < n:
        c = v[i]
        if c in (32, 9, 44):
            i += 1
            continue
        weak = False
        if v[i:i + 2] == b"W/":
            weak = True
            i += 2
        if i >= n or v[i] != 34:
            return None
        j = v.find(b'"', i + 1)
        if j < 0:
            return None
        out.append((weak, v[i:j + 1]))
        i = j + 1
        if i < n and v[i] not in (32, 9, 44):
            return None
    return out


def none_match(value, etag):
    """If-None-Match evaluation (weak comparison): True when the condition is false,
    i.e. the server answers 304 for GET/HEAD."""
    tags = etags(value)
    if tags is None:
        return False
    if tags == ("*",):
        return True
    for weak, tag in tags:
        if tag == etag:
            return True
    return False


def match(value, etag):
    """If-Match evaluation (strong comparison): True when the condition holds. A
    malformed field holds for nothing (the server answers 412)."""
    tags = etags(value)
    if tags is None:
        return False
    if tags == ("*",):
        return True
    for weak, tag in tags:
        if not weak and tag == etag:
            return True
    return False


class Unsatisfiable(Exception):
    pass


def _pos(b):
    b = b.strip(b" \t")
    if not b or len(b) > 18 or not b.isdigit():
        return None
    return int(b)


def parse_range(value, size, max_ranges=16):
    """Range field -> list of (start, end_inclusive) clipped to size; None to ignore the
    field (not bytes, malformed, too many ranges); raises Unsatisfiable when well formed
    but no range overlaps the representation (416)."""
    v = value.strip(b" \t")
    eq = v.find(b"=")
    if eq < 0 or v[:eq].strip(b" \t").lower() != b"bytes":
        return None
    specs = v[eq + 1:].split(b",")
    if len(specs) > max_ranges:
        return None
    out = []
    seen = 0
    for spec in specs:
        spec = spec.strip(b" \t")
        if not spec:
            continue          # empty list elements are allowed
        seen += 1
        d = spec.find(b"-")
        if d < 0:
            return None
        if d == 0:
            n = _pos(spec[1:])
            if n is None:
                return None
            if n == 0 or size == 0:
                continue                     # suffix of zero bytes: unsatisfiable
            out.append((max(0, size - n), size - 1))
            continue
        a = _pos(spec[:d])
        if a is None:
            return None
        rest = spec[d + 1:].strip(b" \t")
        if rest:
            b = _pos(rest)
            if b is None or b < a:
                return None
        else:
            b = size - 1
        if a >= size:
            continue
        out.append((a, b if b < size else size - 1))
    if not seen:
        return None
    if not out:
        raise Unsatisfiable()
    return out


def coalesce(ranges):
    """Merge overlapping or adjacent ranges (RFC 9110 14.2: a server may coalesce)."""
    rs = sorted(ranges)
    out = [list(rs[0])]
    for a, b in rs[1:]:
        last = out[-1]
        if a <= last[1] + 1:
            if b > last[1]:
                last[1] = b
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]
