#!/bin/sh
# Prepare everything the Xen-in-QEMU rig boots, under .cache/xen/ (idempotent):
#   xen               Xen 4.17 hypervisor, a multiboot ELF that `qemu -kernel` boots
#   vmlinux           Debian's generic amd64 kernel, uncompressed (dom0)
#   dom0.cpio.gz      the base dom0 initramfs
#   linux-domu/       the Linux PV baseline guest (vmlinuz + initrd.cpio.gz)
# Each step records a hash of its own scripts in stamps/ and is skipped while it matches.
# Usage: tools/xenrig/setup.sh [XENDIR]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
X=${1:-$HERE/../../.cache/xen}
mkdir -p "$X/stamps"
X=$(cd "$X" && pwd)
command -v qemu-system-x86_64 >/dev/null || { echo "setup: needs qemu-system-x86" >&2; exit 1; }

# step NAME OUTPUT INPUT... : true when NAME must (re)run
step() {
  name=$1 out=$2
  shift 2
  sum=$(cd "$HERE" && cat "$@" | sha256sum | cut -c1-16)
  if [ -e "$out" ] && [ "$(cat "$X/stamps/$name" 2>/dev/null)" = "$sum" ]; then return 1; fi
  echo "setup: $name"
  return 0
}
done_step() { echo "$sum" > "$X/stamps/$name"; }

if step fetch "$X/kver" fetch.sh; then "$HERE/fetch.sh" "$X"; done_step; fi
KV=$(cat "$X/kver")

if step xen "$X/xen" setup.sh; then
  zcat "$X/root/boot/xen-4.17-amd64.gz" > "$X/xen.new" && mv "$X/xen.new" "$X/xen"
  done_step
fi

if step vmlinux "$X/vmlinux" vmlinux.py; then
  python3 "$HERE/vmlinux.py" "$X/root/boot/vmlinuz-$KV" "$X/vmlinux.new" && mv "$X/vmlinux.new" "$X/vmlinux"
  done_step
fi

if step dom0 "$X/dom0.cpio.gz" build-dom0.sh busybox-tree.sh modules-tree.sh dom0/init dom0/lib.sh dom0/vif-bridge dom0/block; then
  "$HERE/build-dom0.sh" "$X"
  done_step
fi

if step linux-domu "$X/linux-domu/initrd.cpio.gz" build-domu.sh busybox-tree.sh modules-tree.sh domu/init; then
  "$HERE/build-domu.sh" "$X"
  done_step
fi
