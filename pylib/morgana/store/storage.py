# A config's c.storage(NAME): a read-write littlefs volume on a block device, as the
# app sees it: env.storage[NAME] (the filesystem, morgana.store.lfs) and env.stores[NAME]
# (its kv face, morgana.store.kv_lfs, over the same mount).
#   fs, kv = await storage.open_storage(NAME, blk)
# A volume that does not mount (never formatted, another filesystem, corrupted) fails
# with StorageError naming the volume, its device and what is wrong: nothing here ever
# formats. `morgana build` formats a new image and checks an old one on the host
# (morgana/host/storage_img.py).
from morgana.store import lfs
from morgana.store import kv_lfs
from morgana.store.lfs_disk import LfsError


class StorageError(LfsError):
    """A storage volume that cannot be used; the message says which and why."""


def _where(name, blk):
    return getattr(blk, "path", None) or getattr(blk, "name", None) or "its disk"


def unusable(name, where, e):
    return StorageError("storage %r (%s): not a usable littlefs volume: %s (it is never "
                        "reformatted: delete the image to start empty)" % (name, where, e))


async def open_storage(name, blk):
    if blk.read_only:
        raise StorageError("storage %r (%s): the disk is read-only" % (name, _where(name, blk)))
    try:
        fs = await lfs.mount(blk)
    except LfsError as e:
        raise unusable(name, _where(name, blk), e)
    kv = kv_lfs.KV(fs)
    await kv._scan("", 0)
    return fs, kv
