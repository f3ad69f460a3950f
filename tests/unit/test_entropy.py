# morgana.entropy: the pool's crediting, the generator, and that on the Xen platform a
# frozen clock with no good source is reported weak (and refused by require) while any
# credited source makes two boots differ even at the same clock.
import fake_xen
from morgana import entropy
from morgana.net import tcp_isn


def _on_xen(hw=None, cmdline=""):
    """Point the pool at the fake kernel: hw is None (no RNG instruction) or (name, fn)."""
    fake_xen.reset()
    fake_xen.hw_rng[0] = hw
    fake_xen._start_info["cmdline"] = cmdline
    entropy._key = None
    entropy._credited = 0
    entropy._xen = fake_xen


def _restore():
    fake_xen._start_info["cmdline"] = ""
    entropy._xen = None
    entropy._key = None
    entropy._credited = 0


def _counter_rng():
    # a different byte string on every call, as a real RNG instruction gives
    n = [0]

    def fn(k):
        n[0] += 1
        return bytes([(n[0] * 37 + i) & 0xFF for i in range(k)])
    return fn


def _isn_of_boot():
    # what the stack does at boot: key RFC 6528's F() from the pool
    entropy._key = None
    entropy._credited = 0
    f = tcp_isn.isn_function(entropy.urandom(16))
    return f(0x0A000002, 80, 0x0A000001, 40000)


def test_generator_gives_fresh_bytes_and_rekeys():
    entropy.init([("test", b"k" * 32, 256)])
    k0 = entropy._key
    a = entropy.urandom(40)
    k1 = entropy._key
    b = entropy.urandom(40)
    assert len(a) == 40 and len(b) == 40 and a != b
    assert k0 != k1 != entropy._key       # backtracking: the key moves on every call
    assert 0 <= entropy.randbits(13) < (1 << 13)


def test_credit_decides_good_and_require_names_the_fix():
    entropy._key = None           # a fresh pool: credit is never lost by re-mixing
    entropy._credited = 0
    entropy.init([("jitter", b"x" * 64, 0), ("clock", b"t" * 16, 0)])
    assert not entropy.good()
    assert "WEAK" in entropy.describe() and "jitter+clock" in entropy.describe()
    try:
        entropy.require("TLS")
        assert False, "require passed on a weak pool"
    except RuntimeError as e:
        assert "TLS refused" in str(e) and "entropy=" in str(e)
    entropy.init([("entropy=", b"s" * 16, 128)])
    assert entropy.good()
    entropy.require("TLS")


def test_cmdline_seed_parsing():
    assert entropy._cmdline_seed("IP=1 entropy=00ff10 x") == b"\x00\xff\x10"
    assert entropy._cmdline_seed("entropy=abc") == b"\xab"     # odd digit dropped
    assert entropy._cmdline_seed("entropy=zz") == b""
    assert entropy._cmdline_seed("quiet") is None


def test_frozen_clock_without_sources_is_weak_on_xen():
    try:
        _on_xen()
        assert entropy.init() is False
        assert entropy._sources == ["jitter", "clock"]
        # the same clock and counters: the same ISNs, which is why this pool is reported
        # weak (boot logs a warning, TLS refuses)
        assert _isn_of_boot() == _isn_of_boot()
    finally:
        _restore()


def test_isn_is_not_a_function_of_the_clock_with_a_hw_source():
    try:
        _on_xen(hw=("rdseed", _counter_rng()))
        assert entropy.init() is True and entropy._sources[0] == "rdseed"
        # same frozen clock, same counter steps: only the RNG instruction differs
        _on_xen(hw=("rdseed", _counter_rng()))
        fake_xen.hw_rng[0] = ("rdseed", _counter_rng())
        a = _isn_of_boot()
        b = _isn_of_boot()
        assert a != b
    finally:
        _restore()


def test_toolstack_seed_alone_is_good_and_differs_per_seed():
    try:
        _on_xen(cmdline="entropy=" + "11" * 32)
        assert entropy.init() and "entropy=" in entropy._sources
        a = _isn_of_boot()
        _on_xen(cmdline="entropy=" + "22" * 32)
        b = _isn_of_boot()
        assert a != b
        _on_xen(cmdline="entropy=" + "1" * 8)      # 32 bits: mixed in, not enough
        assert entropy.init() is False
    finally:
        _restore()


def test_unix_pool_is_good():
    entropy._xen = None
    entropy._key = None
    entropy._credited = 0
    assert entropy.init() is True and "os.urandom" in entropy._sources
