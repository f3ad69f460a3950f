#!/bin/sh
# Copy kernel modules and everything they depend on into an initramfs tree, then index them
# so busybox modprobe finds them.
# Usage: modules-tree.sh UNPACKED_ROOT KVER TREE MODULE...
set -eu
R=$1 KV=$2 T=$3
shift 3
M=$R/lib/modules/$KV
# Debian's package ships no modules.dep (depmod runs at install): make one in the unpacked tree.
[ -s "$M/modules.dep" ] || "$R/bin/busybox" depmod -b "$R" "$KV"
for m in "$@"; do
  # module names use - and _ interchangeably
  line=$(grep -E "/($m|$(echo "$m" | tr _ -)|$(echo "$m" | tr - _))\.ko(\.xz)?:" "$M/modules.dep") ||
    { echo "modules-tree: no module $m" >&2; exit 1; }
  for f in $(echo "$line" | tr -d :); do
    mkdir -p "$T/lib/modules/$KV/$(dirname "$f")"
    cp "$M/$f" "$T/lib/modules/$KV/$f"
  done
done
cp "$M/modules.builtin" "$M/modules.order" "$T/lib/modules/$KV/"
"$R/bin/busybox" depmod -b "$T" "$KV"
