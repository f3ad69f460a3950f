#!/bin/sh
# STOPGAP until kernel/common is arm32-clean: build a MicroPython unikernel for arm32 from a
# manifest `morgana build` wrote (the frozen Python does not depend on the arch), with the
# kernel owner's kernel/Makefile, but two common objects swapped:
#   common/events.c  -> kernel/arm32/selftest/events.c (event words as xen_ulong_t, no
#                       evtchn_upcall_mask: neither exists on Arm)
#   common/gnttab.c  -> itself with `xen_pfn_t frames[]` (64-bit on Arm: with unsigned long
#                       Xen overruns the array on the stack)
# Usage: tools/armrig/build-arm32-image.sh NAME [CFG_ROOT]
#   needs CFG_ROOT/NAME/manifest.py (default build/), e.g. from
#   morgana -B build/arm32/cfg configure configs/www.py --target xen-arm32 DHCP=no IP=10.0.0.2
#   morgana -B build/arm32/cfg build     (its arm32 kernel step fails until then: fine)
# Output: build/arm32/NAME/NAME.zimage (what Xen's arm32 loader takes) and NAME.elf.
set -eu
name=$1
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CFG=$(cd "${2:-$TOP/build}" && pwd)
K=$TOP/kernel
CORE=$TOP/build/arm32/core
OUT=$TOP/build/arm32/$name
[ -f "$CFG/$name/manifest.py" ] || { echo "no $CFG/$name/manifest.py (morgana build first)" >&2; exit 1; }
mkdir -p "$OUT" "$CORE/common"
# 1. everything the core can build as is (events.o fails: -k goes on)
make -k -C "$K" -f core.mk ARCH=arm32 BUILD="$CORE" core-objs -j2 >"$CORE.log" 2>&1 || true
# 2. the two swapped objects, compiled exactly as core.mk compiles mm.o
cmd=$(make -n -B -C "$K" -f core.mk ARCH=arm32 BUILD="$CORE" V=1 "$CORE/common/mm.o" | grep -- ' -c ' | tail -1 | sed 's/ || .*//')
[ -n "$cmd" ] || { echo "cannot find core.mk's compile command" >&2; exit 1; }
sed 's/unsigned long frames\[NR_FRAMES\]/xen_pfn_t frames[NR_FRAMES]/' "$K/common/gnttab.c" > "$CORE/gnttab-xen_pfn_t.c"
grep -q 'xen_pfn_t frames' "$CORE/gnttab-xen_pfn_t.c" || { echo "gnttab.c changed: stopgap outdated" >&2; exit 1; }
cd "$K"
eval "$(echo "$cmd" | sed "s#common/mm\.c#$K/arm32/selftest/events.c#; s#$CORE/common/mm\.o#$CORE/common/events.o#; s#-MF [^ ]*#-MF /dev/null#") -mgeneral-regs-only"
eval "$(echo "$cmd" | sed "s#common/mm\.c#$CORE/gnttab-xen_pfn_t.c -I$K/common#; s#$CORE/common/mm\.o#$CORE/common/gnttab.o#; s#-MF [^ ]*#-MF /dev/null#")"
# 3. the core's object list, then the image
make -C "$K" -f core.mk ARCH=arm32 BUILD="$CORE" core-objs -j2 >>"$CORE.log" 2>&1 || { tail -20 "$CORE.log"; exit 1; }
make -C "$K" ARCH=arm32 NAME="$name" MANIFEST="$CFG/$name/manifest.py" BUILD="$OUT" CORE="$CORE" >"$OUT/build.log" 2>&1 || { tail -20 "$OUT/build.log"; exit 1; }
arm-linux-gnueabihf-objcopy -O binary "$OUT/$name.elf" "$OUT/$name.zimage"
echo "$OUT/$name.zimage: $(stat -c %s "$OUT/$name.zimage") bytes ($(( $(stat -c %s "$OUT/$name.zimage") / 1024 )) KiB)"
