# Prints what the image's randomness gives at boot, for tests/xen/test_boot.py to compare
# across boots of the same image: the pool's sources, 16 random bytes, and F() of RFC 6528
# (the keyed part of an initial sequence number) for a fixed 4-tuple, keyed as the stack
# keys it. Two boots must differ in both; with entropy= on the command line that source
# must show up.
from morgana import entropy
from morgana.net import stack, tcp_isn


def config(c):
    pass


async def main(env):
    f = tcp_isn.isn_function(stack._random_secret())
    print("rng: pool", entropy.describe())
    print("rng: bytes", "".join("%02x" % b for b in entropy.urandom(16)))
    print("rng: isn-f %08x" % f(0x0A000014, 80, 0x0A00000A, 40000))
