#!/bin/sh
# Put busybox-static and a link per applet into an initramfs tree.
# Usage: busybox-tree.sh UNPACKED_ROOT TREE
set -eu
mkdir -p "$2/bin"
cp "$1/bin/busybox" "$2/bin/busybox"
for a in $("$1/bin/busybox" --list); do
  [ -e "$2/bin/$a" ] || ln -s busybox "$2/bin/$a"
done
