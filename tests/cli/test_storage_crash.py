# Crash safety of c.storage on unix: the xentest_lfs_crash guest (MicroPython, BlockFile
# over build/.../data.img, flush = fsync) writes keys in a loop and prints each
# acknowledged put; it is killed with SIGKILL at random moments, 200 times. After each
# kill littlefs-python (the C reference) reads the image: every acknowledged key holds its
# last acknowledged value (or the one in flight, whole), no value is torn, and the next
# run mounts the volume again and resumes from what it finds.
import os
import random
import subprocess
import time

from cli_helpers import morgana
from lfs_crash import GUEST, Model
from morgana.host import build

ROUNDS = int(os.environ.get("LFS_CRASH_ROUNDS", "200"))


def test_kill_9_at_random_moments(bdir):
    morgana(bdir, "configure", GUEST, "--target", "unix-socket", "DATA_MIB=1", "MEM=8")
    morgana(bdir, "build")
    cfg = build.load_cfg(str(bdir), "xentest_lfs_crash")
    argv, env = build.run_command(cfg)
    img = os.path.join(cfg["build_dir"], "data.img")
    rng = random.Random(12)
    model = Model(23)
    early = 0
    for r in range(ROUNDS):
        log = os.path.join(str(bdir), "round.log")
        with open(log, "wb") as out:
            p = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
            if r % 10 == 9:             # some kills land while it mounts
                time.sleep(rng.uniform(0.0, 0.03))
                early += 1
            else:
                end = time.time() + 10
                while b"UP" not in open(log, "rb").read() and time.time() < end \
                        and p.poll() is None:
                    time.sleep(0.005)
                time.sleep(rng.uniform(0.0, 0.15))
            assert p.poll() is None, open(log, "rb").read()[-2000:]
            p.kill()
            p.wait()
        with open(log, "rb") as f:
            output = f.read().decode("utf-8", "replace")
        with open(img, "rb") as f:
            model.round(output, f.read())
    # the volume still mounts for the guest and for us after the last kill
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    line = p.stdout.readline().decode()
    p.kill()
    p.wait()
    assert line.startswith("UP next=%d" % (max(model.state.values()) + 1)), line
    assert model.rounds == ROUNDS and model.acked > ROUNDS * 5, (model.acked,)
    print("rounds %d, acknowledged puts %d, in-flight puts found whole %d, early kills %d"
          % (model.rounds, model.acked, model.inflight_hits, early))
