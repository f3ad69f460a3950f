# Host side of c.storage (never frozen): `morgana build` makes a storage volume's image
# (a file of size_mib MiB formatted by our littlefs, morgana.store.lfs, on CPython) and
# checks an existing one: right size and a littlefs that mounts. Never reformats.
import os

from morgana import sched
from morgana.store import blk_file
from morgana.store import lfs
from morgana.store.lfs_disk import LfsError
from morgana.store.storage import StorageError, unusable


def format_image(path, size_mib, block_size=4096):
    """Host side (CPython): create path (size_mib MiB) and format it. Refuses to touch
    an existing file."""
    if os.path.exists(path):
        raise StorageError("%s exists: not reformatting it" % path)
    with open(path + ".tmp", "wb") as f:
        f.truncate(size_mib << 20)
    dev = blk_file.BlockFile(path + ".tmp", read_only=False)
    try:
        sched.run(lfs.format(dev, block_size=block_size))
    finally:
        dev.close()
    os.rename(path + ".tmp", path)


def check_image(name, path, size_mib):
    """Host side: an existing image must be a littlefs volume of the configured size."""
    size = os.path.getsize(path)
    if size != size_mib << 20:
        raise StorageError("storage %r: %s is %d bytes, the config says size_mib=%d "
                           "(%d bytes): not resizing it" % (name, path, size, size_mib,
                                                            size_mib << 20))
    dev = blk_file.BlockFile(path, read_only=True)
    try:
        sched.run(_check(name, dev))
    finally:
        dev.close()


async def _check(name, dev):
    try:
        fs = await lfs.mount(dev, read_only=True)
    except LfsError as e:
        raise unusable(name, dev.path, e)
    return await fs.statvfs()
