# Host side of the littlefs crash tests (CPython): the model of what a killed
# xentest_lfs_crash guest may have left on its volume, checked with littlefs-python (the
# reference C implementation), not with our own code.
import os
import re

from littlefs import LittleFS, UserContext

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUEST = os.path.join(TOP, "tests", "xen", "configs", "xentest_lfs_crash.py")


def guest_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location("xentest_lfs_crash", GUEST)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def read_volume(image, block_size=4096):
    """{name: bytes} of every file, by littlefs-python."""
    fs = LittleFS(context=UserContext(buffer=bytearray(image)), block_size=block_size,
                  block_count=len(image) // block_size, mount=False)
    fs.mount()
    out = {}
    for name in fs.listdir("/"):
        with fs.open(name, "rb") as f:
            out[name] = f.read()
    return out


class Model:
    """What is on the volume after each round: key -> i of its value."""

    def __init__(self, keys):
        self.g = guest_module()
        self.keys = keys
        self.state = {}
        self.rounds = 0
        self.acked = 0
        self.inflight_hits = 0

    def round(self, output, image, lossy=False):
        """One killed run: its console output and the image after; AssertionError if the
        volume lost an acknowledged write, holds a torn value, or the guest was wrong.
        lossy: the console may have lost its last lines (xl destroy takes the console
        ring with the domain), so any whole value written after the last ACK seen is
        allowed too (it was acknowledged unseen, or in flight)."""
        self.rounds += 1
        assert "BAD" not in output, output[-2000:]
        ups = re.findall(r"UP next=(\d+) keys=(\d+)", output)
        acks = [int(a) for a in re.findall(r"ACK (\d+)\r?\n", output)]
        if not ups:                     # killed while mounting: nothing seen written
            assert not acks, output[-2000:]
            inflight = None
            if lossy:                   # ... or its UP line was lost with the console
                inflight = (max(self.state.values()) if self.state else 0) + 1
        else:
            nxt, nkeys = int(ups[0][0]), int(ups[0][1])
            assert nkeys == len(self.state), (nkeys, self.state)
            top = max(self.state.values()) if self.state else 0
            assert nxt == top + 1, (nxt, top)
            assert acks == list(range(nxt, nxt + len(acks))), acks[:5]
            for i in acks:
                self.state[self.g.key_of(i, self.keys)] = i
            self.acked += len(acks)
            inflight = nxt + len(acks)
        files = read_volume(image)
        assert set(files) >= set(self.state), (sorted(self.state), sorted(files))
        for name, data in files.items():
            i = self.g.seq_of(name, data, self.keys)
            assert i is not None, "torn value in %s: %r" % (name, data[:80])
            if i == inflight or (lossy and inflight is not None and i > inflight):
                self.inflight_hits += 1     # written after the last ACK seen, whole
            else:
                assert self.state.get(name) == i, (name, i, self.state.get(name), inflight)
            self.state[name] = i
        return inflight
