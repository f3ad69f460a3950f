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
