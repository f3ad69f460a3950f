# Keyed hash of a connection 4-tuple for initial sequence numbers (RFC 6528 F()).
# SHA-256 when hashlib exists (CPython, MicroPython Unix port). A kernel built without
# hashlib falls back to a keyed 32-bit mix (xorshift-multiply rounds over key and tuple):
# not cryptographic, but still unpredictable without the secret, which is what stops
# off-path sequence guessing in practice.
import struct

try:
    import hashlib
    _sha256 = hashlib.sha256
except (ImportError, AttributeError):
    _sha256 = None


def _mix32(h, v):
    h ^= v & 0xFFFFFFFF
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    return h


def isn_function(secret):
    """-> f(lip, lport, rip, rport) giving 32 bits that depend on secret and the tuple."""
    if isinstance(secret, str):
        secret = secret.encode()
    secret = bytes(secret)
    if len(secret) < 8:
        raise ValueError("ISN secret must be at least 8 bytes")
    if _sha256 is not None:
        def f(lip, lport, rip, rport):
            h = _sha256(secret)
            h.update(struct.pack(">IHIH", lip, lport, rip, rport))
            return int.from_bytes(h.digest()[:4], "big")
        return f
    return isn_fallback(secret)


def isn_fallback(secret):
    words = [int.from_bytes(secret[i:i + 4], "big") for i in range(0, len(secret) - 3, 4)]

    def f(lip, lport, rip, rport):
        h = 0x9E3779B9
        for w in words:
            h = _mix32(h, w)
        for v in (lip, (lport << 16) | rport, rip):
            h = _mix32(h, v)
        for w in words:
            h = _mix32(h, w)
        return h
    return f


# ---- SYN cookies (RFC 4987 section 3.6) ---------------------------------------------------
# Once a listener's backlog is full, the SYN-ACK's ISN carries the connection instead of a
# half-open entry, and the handshake's ACK (ack = ISN + 1) brings it back:
#   bits 31-30  the slot counter mod 4 (one slot = COOKIE_SLOT seconds)
#   bits 29-24  the peer's options: MSS index (2 bits), window-scale code (3), SACK (1)
#   bits 23-0   a keyed MAC of the 4-tuple, the peer's ISN, the full counter and the options
# A cookie is accepted in its own slot and the next one (64 to 128 s). A forged ACK must
# guess 24 MAC bits for its 4-tuple: one chance in 16 million per packet.
# Decoded values never exceed what the peer offered: an MSS or a window-scale shift is
# rounded down to a table entry (a smaller shift only makes us read the peer's window as
# smaller than it is, which is safe). Timestamps are not used by this stack, so nothing
# else is lost.
COOKIE_SLOT = 64.0
COOKIE_MSS = (536, 1220, 1440, 1460)
COOKIE_WS = (None, 0, 2, 4, 6, 7, 8, 9)  # code 0: the peer sent no window-scale option


def cookie_function(secret):
    """-> g(lip, lport, rip, rport, peer_isn, word) giving 24 bits keyed by secret (a
    different function of the secret from isn_function's)."""
    if isinstance(secret, str):
        secret = secret.encode()
    key = b"syn-cookie" + bytes(secret)
    if _sha256 is not None:
        def g(lip, lport, rip, rport, peer_isn, word):
            h = _sha256(key)
            h.update(struct.pack(">IHIHII", lip, lport, rip, rport, peer_isn, word))
            return int.from_bytes(h.digest()[:3], "big")
        return g
    f = isn_fallback(key)

    def g(lip, lport, rip, rport, peer_isn, word):
        h = f(lip ^ peer_isn, lport, rip ^ word, rport)
        return _mix32(h, peer_isn ^ (word << 7)) & 0xFFFFFF
    return g


def _round_down(table, v):
    # index of the largest entry <= v (0 when v is below them all)
    i = len(table) - 1
    while i > 0 and (table[i] is None or table[i] > v):
        i -= 1
    return i


def cookie_options(mss, wscale, sack_ok):
    """The 6 option bits for a SYN's MSS (None: 536), window scale (None: absent), SACK."""
    mi = _round_down(COOKIE_MSS, mss if mss else 536)
    wi = 0 if wscale is None else max(1, _round_down(COOKIE_WS, wscale))
    return mi | (wi << 2) | (32 if sack_ok else 0)


def decode_options(bits):
    """-> (mss, wscale or None, sack_ok) from cookie_options' bits."""
    return COOKIE_MSS[bits & 3], COOKIE_WS[(bits >> 2) & 7], bool(bits & 32)


def make_cookie(g, count, lip, lport, rip, rport, peer_isn, opts):
    """The ISN of a cookie SYN-ACK in slot `count` (an int that grows every COOKIE_SLOT s)."""
    word = ((count & 0x3FFFFFF) << 6) | opts
    return ((count & 3) << 30) | (opts << 24) | g(lip, lport, rip, rport, peer_isn, word)


def check_cookie(g, count, lip, lport, rip, rport, peer_isn, cookie):
    """The option bits if cookie (the ACK's ack - 1) was made for this 4-tuple and peer ISN
    in slot count or count - 1; None otherwise (forged, or expired)."""
    c = count if (count & 3) == (cookie >> 30) else count - 1
    if (c & 3) != (cookie >> 30):
        return None  # two or more slots old
    opts = (cookie >> 24) & 63
    if make_cookie(g, c, lip, lport, rip, rport, peer_isn, opts) != cookie:
        return None
    return opts
