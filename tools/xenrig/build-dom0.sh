#!/bin/sh
# Build the base dom0 initramfs: busybox + Xen toolstack (xl, xenstored, xenconsoled) with
# their shared libraries + the kernel modules the rig uses + our /init and hotplug scripts.
# Tests append their own files as a second archive (tests/xen/rig.py), so this runs once.
# Usage: build-dom0.sh XENDIR     (XENDIR as filled by fetch.sh) -> XENDIR/dom0.cpio.gz
set -eu
X=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
R=$X/root
KV=$(cat "$X/kver")
XB=$R/usr/lib/xen-4.17/bin
T=$X/dom0-tree
rm -rf "$T"
mkdir -p "$T"/bin "$T"/sbin "$T"/usr/bin "$T"/usr/sbin "$T"/lib64 "$T"/lib/x86_64-linux-gnu \
  "$T"/usr/lib/xen-4.17/bin "$T"/usr/lib/xenrig "$T"/etc/xen/scripts "$T"/proc "$T"/sys \
  "$T"/dev "$T"/tmp "$T"/run "$T"/root "$T"/guest "$T"/var/log/xen "$T"/var/lib/xen
ln -s /run "$T"/var/run

"$HERE/busybox-tree.sh" "$R" "$T"

# Toolstack binaries. Debian's /usr/sbin/xl is a wrapper script that picks the version;
# copy the real ones and link them where libxl expects its helpers.
for b in xl xenstored xenconsoled xen-init-dom0 xenconsole; do
  cp "$XB/$b" "$T/usr/sbin/$b"
  ln -s "/usr/sbin/$b" "$T/usr/lib/xen-4.17/bin/$b"
done
cp "$R"/usr/bin/xenstore "$T"/usr/bin/
for b in "$R"/usr/bin/xenstore-*; do ln -s xenstore "$T/usr/bin/$(basename "$b")"; done

# Shared libraries, resolved by the host's loader against the unpacked packages first
# (bookworm host = bookworm libraries). libgcc_s is dlopen()ed by pthread_cancel in libxl.
LD_LIBRARY_PATH=$R/usr/lib/x86_64-linux-gnu:$R/usr/lib/xen-4.17/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH
for b in "$T"/usr/sbin/* "$T"/usr/bin/xenstore; do ldd "$b"; done |
  sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p' | sort -u > "$X/dom0-libs.txt"
echo /lib/x86_64-linux-gnu/libgcc_s.so.1 >> "$X/dom0-libs.txt"
while read -r lib; do cp -L "$lib" "$T/lib/x86_64-linux-gnu/"; done < "$X/dom0-libs.txt"
cp -L /lib64/ld-linux-x86-64.so.2 "$T/lib64/"
unset LD_LIBRARY_PATH

# Kernel modules and their dependencies.
"$HERE/modules-tree.sh" "$R" "$KV" "$T" \
  xen-evtchn xenfs xen-privcmd xen-gntdev xen-gntalloc xen-netback xen-blkback loop bridge \
  virtio_net virtio_pci tun

cp "$HERE/dom0/init" "$T/init"
cp "$HERE/dom0/lib.sh" "$T/usr/lib/xenrig/lib.sh"
cp "$HERE/dom0/vif-bridge" "$HERE/dom0/block" "$T/etc/xen/scripts/"
chmod 755 "$T/init" "$T"/etc/xen/scripts/*
echo 'root::0:0:root:/root:/bin/sh' > "$T/etc/passwd"
echo '# defaults are fine; xl complains when this file is missing' > "$T/etc/xen/xl.conf"
echo 'root:x:0:' > "$T/etc/group"

(cd "$T" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -1 > "$X/dom0.cpio.gz.new"
mv "$X/dom0.cpio.gz.new" "$X/dom0.cpio.gz"
echo "dom0 initramfs: $(du -k "$X/dom0.cpio.gz" | cut -f1) KiB"
