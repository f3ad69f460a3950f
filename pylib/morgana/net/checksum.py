# Internet checksum (RFC 1071), the hot path of the stack.
#   csum(buf, start=0)  ones'-complement sum of buf as big-endian 16-bit words plus `start`,
#                        folded to 16 bits, NOT inverted (a valid packet sums to 0xFFFF).
#   pseudo_header_sum(src, dst, proto, length)  the TCP/UDP pseudo-header part, same form.
#   finish(s)            the value to store in a header: ~s & 0xFFFF.
# Three implementations, best first: _xen.inet_csum (C, in the kernel), a viper function
# (MicroPython Unix port, compiled at import so frozen images never need native code),
# and a big-int trick (portable): sum of 16-bit words == int(buf) mod 0xFFFF.


def _fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def csum_py(buf, start=0):
    n = len(buf)
    if n & 1:
        v = int.from_bytes(bytes(buf), "big") << 8
    else:
        v = int.from_bytes(bytes(buf), "big")
    v += start
    if v == 0:
        return 0
    r = v % 0xFFFF
    # end-around-carry arithmetic never yields 0 for a non-zero total: it yields 0xFFFF
    return r if r else 0xFFFF


impl = "py"
csum = csum_py

try:
    import _xen

    def csum(buf, start=0):
        return _xen.inet_csum(buf, start)

    impl = "xen"
except ImportError:
    _xen = None

if _xen is None:
    try:
        import micropython  # noqa: F401  (MicroPython only: names the viper emitter)

        _VIPER_SRC = """
@micropython.viper
def _csum_viper(buf, n: int, start: int) -> int:
    p = ptr8(buf)
    s = start
    i = 0
    m = n - 1
    while i < m:
        s += (p[i] << 8) | p[i + 1]
        i += 2
    if i < n:
        s += p[i] << 8
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s
"""
        _ns = {"micropython": micropython}
        exec(_VIPER_SRC, _ns)
        _csum_viper = _ns["_csum_viper"]

        def csum(buf, start=0):
            # viper ints are machine words: fold a large start first so it cannot overflow
            return _csum_viper(buf, len(buf), _fold(start))

        impl = "viper"
    except Exception:
        pass


def pseudo_header_sum(src, dst, proto, length):
    return _fold((src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + proto + length)


def finish(s):
    return ~s & 0xFFFF
