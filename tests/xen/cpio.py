"""Write a "newc" cpio archive, the format Linux unpacks as initramfs.

The rig appends one of these (uncompressed: no decompression cost in the TCG guest) to the
base dom0 initramfs to add a test's files without rebuilding the base.
"""
import stat

MAGIC = b'070701'


def _pad4(n):
    return (4 - n % 4) % 4


def _entry(name, mode, data=b'', ino=0):
    name_b = name.encode() + b'\0'
    fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0)
    head = MAGIC + b''.join(b'%08X' % f for f in fields) + name_b
    return head + b'\0' * _pad4(len(head)) + data + b'\0' * _pad4(len(data))


def archive(files):
    """files: {absolute dest path: (bytes, mode)} -> the archive, parent directories included.

    Linux's unpacker creates a file only if its directory exists, so every parent gets its
    own entry first; re-creating a directory the base archive already has is harmless.
    """
    out = []
    dirs = set()
    ino = 1
    for dest in sorted(files):
        if not dest.startswith('/'):
            raise ValueError('initramfs paths are absolute: %r' % dest)
        parts = dest.strip('/').split('/')
        for i in range(1, len(parts)):
            d = '/'.join(parts[:i])
            if d not in dirs:
                dirs.add(d)
                out.append(_entry(d, stat.S_IFDIR | 0o755, ino=ino))
                ino += 1
        data, mode = files[dest]
        out.append(_entry('/'.join(parts), stat.S_IFREG | mode, data, ino=ino))
        ino += 1
    out.append(_entry('TRAILER!!!', 0))
    return b''.join(out)
