#!/bin/sh
# Build the Linux PV baseline domU: Debian's kernel and a busybox initramfs with the Xen
# frontends. It proves the rig and is the yardstick for bench/boot_time.py.
# Its kernel is XENDIR/vmlinux (the dom0 one, uncompressed: xl create then takes ~1 s instead
# of ~11 s spent un-xz-ing a vmlinuz in dom0 under TCG).
# Usage: build-domu.sh XENDIR -> XENDIR/linux-domu/initrd.cpio.gz
set -eu
X=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
R=$X/root
KV=$(cat "$X/kver")
O=$X/linux-domu
T=$X/domu-tree
rm -rf "$T"
mkdir -p "$T"/proc "$T"/sys "$T"/dev "$T"/tmp "$T"/etc "$O"
"$HERE/busybox-tree.sh" "$R" "$T"
"$HERE/modules-tree.sh" "$R" "$KV" "$T" xen-netfront xen-blkfront
cp "$HERE/domu/init" "$T/init"
chmod 755 "$T/init"
echo 'root::0:0:root:/:/bin/sh' > "$T/etc/passwd"
(cd "$T" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -1 > "$O/initrd.cpio.gz"
echo "linux domU: initrd $(du -k "$O/initrd.cpio.gz" | cut -f1) KiB"
