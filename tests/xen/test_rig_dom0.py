"""The fast path: a kernel booted directly as Xen's dom0 (no Linux dom0, no toolstack).
Its own file: the Linux-domU boot of test_rig.py holds the one-QEMU lock for its module."""
import os


def test_kernel_booted_as_dom0_ends_the_session(rig):
    # Linux without a root file system panics; Xen reports dom0 crashed and the session ends.
    s = rig.boot_as_dom0(os.path.join(rig.xendir, 'vmlinux'), timeout=120, mem=256,
                         cmdline='console=hvc0 quiet', name='test_rig_dom0')
    try:
        assert s.wait() == 'crash'
        assert 'VFS: Unable to mount root fs' in s.text
    finally:
        s.close()
