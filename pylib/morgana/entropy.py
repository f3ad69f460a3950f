# The image's one source of random bytes (TCP initial sequence numbers and SYN cookies,
# DHCP xids, whatever an app or TLS needs): a pool hashed from every source the platform
# offers, and a generator over it.
#
# Sources, each credited with the bits we trust it for (docs/design.md, "Randomness"):
#   os.urandom         the host kernel's CSPRNG (unix targets)          full
#   rdseed / rdrand    the CPU's RNG instruction (x86_64, when CPUID has it)  full
#   entropy=HEX        a per-boot seed handed over on the kernel command line by the
#                      toolstack (xl create NAME.xl 'extra="entropy=..."')  4 bits a digit
#   jitter, clocks     cycle-counter deltas and the boot time           none: mixed in only
# The pool is good once 128 credited bits went in; until then `require()` refuses (TLS
# must not start on the clock alone) and boot logs a warning saying how to fix it.
#
# Generator: SHA-256 in counter mode under a 32-byte key; after every request the key is
# replaced by a hash of itself, so a state read later cannot rebuild earlier output.
import hashlib
import struct

try:
    import _xen
except ImportError:
    _xen = None

GOOD_BITS = 128
_JITTER_SAMPLES = 64

_key = None
_ctr = 0
_sources = []     # names of the sources that went into the pool
_credited = 0


def _cmdline_seed(cmdline):
    """The hex digits of an `entropy=HEX` word on a kernel command line, as bytes, or
    None (absent, or not hex: reported by init)."""
    for word in cmdline.split():
        if word.startswith("entropy="):
            h = word[8:]
            if len(h) % 2:
                h = h[:-1]
            try:
                return bytes([int(h[i:i + 2], 16) for i in range(0, len(h), 2)])
            except ValueError:
                return b""
    return None


def _jitter(cycles, samples=_JITTER_SAMPLES):
    # deltas of a cycle counter around a little hashing work: cache, TLB and hypervisor
    # noise. Not credited (under emulation or a steady host it can be near-constant).
    out = bytearray()
    h = hashlib.sha256()
    last = cycles()
    for i in range(samples):
        h.update(struct.pack("<I", i))
        now = cycles()
        out += struct.pack("<I", (now - last) & 0xFFFFFFFF)
        last = now
    return bytes(out)


def _gather():
    """[(name, bytes, credited bits)] from every source this platform has."""
    got = []
    if _xen is not None:
        hw = _xen.hw_random(32)
        if hw is not None and hw[1]:
            got.append((hw[0], hw[1], 8 * len(hw[1])))
        seed = _cmdline_seed(_xen.start_info().get("cmdline", ""))
        if seed:
            got.append(("entropy=", seed, 8 * len(seed)))
        got.append(("jitter", _jitter(_xen.cycles), 0))
        got.append(("clock", struct.pack("<QQ", _xen.time_ns(), _xen.wall_ns()), 0))
    else:
        # unix targets: the host kernel's CSPRNG (the Xen kernel has no os module)
        import os
        got.append(("os.urandom", os.urandom(32), 256))
    return got


def init(sources=None):
    """Fill the pool (once; again when called again, mixing the old key in). sources:
    [(name, bytes, bits)] instead of the platform's (tests). -> good()."""
    global _key, _ctr, _sources, _credited
    h = hashlib.sha256(b"morgana entropy pool v1")
    if _key is not None:
        h.update(_key)
    names = []
    credited = _credited if _key is not None else 0
    for name, data, bits in (_gather() if sources is None else sources):
        h.update(struct.pack("<H", len(data)))
        h.update(data)
        names.append(name)
        credited += bits
    _key = h.digest()
    _ctr = 0
    _sources = names
    _credited = credited
    return good()


def good():
    return _credited >= GOOD_BITS


def describe():
    """One line for the boot log: the sources and whether the pool is good."""
    if _key is None:
        init()
    return "%s (%d bits credited: %s)" % ("+".join(_sources), min(_credited, 256),
                                          "good" if good() else "WEAK")


def require(what):
    """Raise RuntimeError unless the pool is good: for users of keys (TLS)."""
    if _key is None:
        init()
    if not good():
        raise RuntimeError(
            "%s refused: no good entropy source (only %s): this CPU has no RDRAND/RDSEED "
            "and no seed was handed over; boot with entropy=<64 hex digits> on the "
            "command line, e.g. xl create NAME.xl 'extra=\"entropy=...\"'"
            % (what, "+".join(_sources)))


def urandom(n):
    """n random bytes."""
    global _key, _ctr
    if _key is None:
        init()
    out = bytearray()
    while len(out) < n:
        out += hashlib.sha256(_key + b"\x00" + struct.pack("<Q", _ctr)).digest()
        _ctr += 1
    _key = hashlib.sha256(_key + b"\x01" + struct.pack("<Q", _ctr)).digest()
    _ctr += 1
    return bytes(out[:n])


def randbits(k):
    """A non-negative int of k random bits."""
    return int.from_bytes(urandom((k + 7) // 8), "big") >> (-k % 8)
