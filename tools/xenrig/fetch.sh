#!/bin/sh
# Download the Debian bookworm packages the rig boots (Xen 4.17, its toolstack, a generic
# amd64 kernel, busybox) with `apt-get download`, and unpack them with `dpkg -x` (no install).
# Usage: fetch.sh XENDIR      -> XENDIR/debs/*.deb, XENDIR/root/ (the unpacked tree), XENDIR/kver
set -eu
mkdir -p "$1/debs" "$1/root"
X=$(cd "$1" && pwd)

# The kernel ABI number changes with every Debian point release: ask apt which one the
# linux-image-amd64 metapackage points at now. The generic flavour has CONFIG_XEN_DOM0
# (the cloud flavour does not); -unsigned is the same kernel without the signed-EFI wrapping.
kernel_pkg() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/.*Depends: \(linux-image-6[^ ]*-amd64\)$/\1/p' | head -1
}
kimg=$(kernel_pkg)
if [ -z "$kimg" ]; then apt-get update -qq; kimg=$(kernel_pkg); fi
[ -n "$kimg" ] || { echo "fetch: apt knows no linux-image-amd64" >&2; exit 1; }
kver=${kimg#linux-image-}

PKGS="xen-hypervisor-4.17-amd64 xen-utils-4.17 xenstore-utils
 libxenmisc4.17 libxencall1 libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxenstore4
 libxentoollog1 libxendevicemodel1 libxenhypfs1 libxentoolcore1 libyajl2
 busybox-static $kimg-unsigned"

cd "$X/debs"
need=""
for p in $PKGS; do ls "${p}"_*.deb >/dev/null 2>&1 || need="$need $p"; done
if [ -n "$need" ]; then
  echo "fetch: apt-get download$need"
  apt-get download $need >/dev/null 2>&1 ||
    { apt-get update -qq; apt-get download $need >/dev/null; }
fi
for p in $PKGS; do
  d=$(ls "${p}"_*.deb | sort -V | tail -1)
  dpkg -x "$d" "$X/root"
done
echo "$kver" > "$X/kver"
echo "fetch: kernel $kver, $(du -sh "$X/debs" | cut -f1) of debs"
