#!/bin/sh
# Build the Linux PV baseline domU: Debian's kernel and a busybox initramfs with the Xen
# frontends. It proves the rig and is the yardstick for bench/boot_time.py.
# Usage: build-domu.sh XENDIR -> XENDIR/linux-domu/{vmlinuz,initrd.cpio.gz}
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
cp "$R/boot/vmlinuz-$KV" "$O/vmlinuz"
echo "linux domU: kernel $(du -k "$O/vmlinuz" | cut -f1) KiB, initrd $(du -k "$O/initrd.cpio.gz" | cut -f1) KiB"
