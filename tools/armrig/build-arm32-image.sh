#!/bin/sh
# Build a MicroPython unikernel for arm32 from a manifest `morgana build` wrote (the frozen
# Python does not depend on the arch) with kernel/Makefile, and name it as the ARM tests
# expect.
# Usage: tools/armrig/build-arm32-image.sh NAME [CFG_ROOT]
#   needs CFG_ROOT/NAME/manifest.py (default build/), e.g. from
#   morgana -B build/arm32/cfg configure configs/www.py --target xen-arm32 DHCP=no IP=10.0.0.2
#   morgana -B build/arm32/cfg build
# Output: build/arm32/NAME/NAME.zimage (what Xen's arm32 loader takes) and NAME.elf.
set -eu
name=$1
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CFG=$(cd "${2:-$TOP/build}" && pwd)
OUT=$TOP/build/arm32/$name
[ -f "$CFG/$name/manifest.py" ] || { echo "no $CFG/$name/manifest.py (morgana build first)" >&2; exit 1; }
mkdir -p "$OUT"
make -C "$TOP/kernel" ARCH=arm32 NAME="$name" MANIFEST="$CFG/$name/manifest.py" BUILD="$OUT" >"$OUT/build.log" 2>&1 || { tail -20 "$OUT/build.log"; exit 1; }
cp "$OUT/$name.xen" "$OUT/$name.zimage"
echo "$OUT/$name.zimage: $(stat -c %s "$OUT/$name.zimage") bytes ($(( $(stat -c %s "$OUT/$name.zimage") / 1024 )) KiB)"
