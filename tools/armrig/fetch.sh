#!/bin/sh
# Fetch Debian bookworm armhf packages for the ARM rig and unpack them:
#   .cache/arm/debs/*.deb  ->  .cache/arm/root  (one merged tree, like a tiny rootfs)
# Versions come from apt (metapackages resolved at run time), never hard-coded.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
A=$TOP/.cache/arm
mkdir -p "$A/debs" "$A/root"
dpkg --print-foreign-architectures | grep -qx armhf || { dpkg --add-architecture armhf; rm -f "$A/.fetched"; }
ls /var/lib/apt/lists/*binary-armhf_Packages* >/dev/null 2>&1 || apt-get update -qq || true
# The dom0/domU kernel (its package also ships the boards' DTBs): Xen support is in the LPAE flavour only.
kver=$(apt-cache depends linux-image-armmp-lpae:armhf | sed -n 's/.*Depends: \(linux-image-[^:]*\).*/\1/p' | head -1)
[ -n "$kver" ] || { echo "fetch: no linux-image-armmp-lpae:armhf in apt" >&2; exit 1; }
# Userspace for a dom0 initramfs: busybox + xl + xenstored and the shared libraries they load.
pkgs="xen-hypervisor-4.17-armhf $kver busybox-static xen-utils-4.17 xen-utils-common
 xenstore-utils libxencall1 libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxenmisc4.17
 libxenstore4 libxentoollog1 libxentoolcore1 libxendevicemodel1 libxenhypfs1 libyajl2 libfdt1
 libc6 libgcc-s1 libncurses6 libtinfo6 zlib1g liblzma5 libbz2-1.0 libzstd1 libuuid1 libnl-3-200
 libnl-route-3-200 libgnutls30 libext2fs2 libcom-err2 libblkid1 libpcre2-8-0 libselinux1
 u-boot-sunxi"
# The stamp holds the package list, so adding a package here fetches again.
[ "$(cat "$A/.fetched" 2>/dev/null)" = "$(echo $pkgs)" ] && exit 0
cd "$A/debs"
for p in $pkgs; do
  ls "${p}_"*_armhf.deb "${p}_"*_all.deb >/dev/null 2>&1 || apt-get download -qq "$p:armhf" 2>/dev/null || apt-get download -qq "$p" 
done
for d in *.deb; do dpkg -x "$d" "$A/root"; done
echo $pkgs > "$A/.fetched"
echo "fetch: $(ls | wc -l) debs unpacked into $A/root"
