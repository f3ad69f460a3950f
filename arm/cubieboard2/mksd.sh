#!/bin/sh
# Assemble an SD card image for the CubieBoard2 (Allwinner A20) that boots Xen 4.17, a
# Linux dom0 with the xl toolstack, and the www unikernel, all from Debian armhf packages.
#   arm/cubieboard2/mksd.sh OUT.img WWW_XEN
# Layout: MBR; U-Boot's SPL+U-Boot (u-boot-sunxi-with-spl.bin) at 8 KiB, where the A20
# boot ROM looks; partition 1 (FAT16, bootable) from 1 MiB holding everything else.
# No loop devices or mounts: the filesystem is built in a file (mkfs.fat + mtools).
set -eu
[ $# -eq 2 ] || { echo "usage: $0 OUT.img WWW_XEN" >&2; exit 2; }
out=$1 www=$2
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
ROOT=$TOP/.cache/arm/root
W=$TOP/build/cubieboard2
FAT_MIB=64
for t in mkimage mkfs.fat mcopy sfdisk python3 readelf; do
  command -v $t >/dev/null || { echo "mksd: $t missing (tools/deps.sh arm)" >&2; exit 1; }
done
[ -f "$www" ] || { echo "mksd: no $www" >&2; exit 1; }
"$TOP/tools/armrig/fetch.sh" >/dev/null
rm -rf "$W" && mkdir -p "$W"

spl=$ROOT/usr/lib/u-boot/Cubieboard2/u-boot-sunxi-with-spl.bin
kver=$(ls "$ROOT/lib/modules" | head -1)
dtb=$ROOT/usr/lib/linux-image-$kver/sun7i-a20-cubieboard2.dtb
for f in "$spl" "$dtb" "$ROOT/boot/xen-4.17-armhf" "$ROOT/boot/vmlinuz-$kver"; do
  [ -f "$f" ] || { echo "mksd: $f not unpacked" >&2; exit 1; }
done
# The SPL and U-Boot must end before partition 1 at 1 MiB.
[ $((8192 + $(stat -c %s "$spl"))) -le 1048576 ] || { echo "mksd: $spl too big" >&2; exit 1; }

mkimage -A arm -O linux -T script -C none -n "Morgana CubieBoard2" -d "$HERE/boot.cmd" "$W/boot.scr" >/dev/null
# Dom0 initramfs: xl toolstack + SD card, FAT, bridge/netback and the A20 Ethernet drivers
# (+ virtio disk/net so the same image boots under QEMU's virt machine in tests/arm).
python3 "$TOP/tools/armrig/initrd.py" dom0 "$W/initrd.gz" --init "$HERE/dom0-init.sh" \
  --modules sunxi-mmc,vfat,nls-cp437,nls-iso8859-1,nls-utf8,nls-ascii,bridge,xen-netback,dwmac-sunxi,sun4i-emac,virtio-mmio,virtio-blk,virtio-net >/dev/null
cp "$ROOT/boot/xen-4.17-armhf" "$W/xen"
cp "$ROOT/boot/vmlinuz-$kver" "$W/vmlinuz"
cp "$dtb" "$W/sun7i-a20-cubieboard2.dtb"
cp "$www" "$W/www.xen"
cp "$HERE/www.xl" "$W/www.xl"
cp "$HERE/boot.cmd" "$W/boot.cmd"

fat=$W/boot.vfat
mkfs.fat -C -F 16 -n MORGANA "$fat" $((FAT_MIB * 1024)) >/dev/null
for f in boot.scr boot.cmd xen vmlinuz initrd.gz sun7i-a20-cubieboard2.dtb www.xen www.xl; do
  mcopy -i "$fat" "$W/$f" "::$f"
done

rm -f "$out"
truncate -s $((1 + FAT_MIB))M "$out"
printf 'label: dos\nstart=2048, size=%d, type=6, bootable\n' $((FAT_MIB * 2048)) | sfdisk -q "$out"
dd if="$fat" of="$out" bs=1M seek=1 conv=notrunc status=none
dd if="$spl" of="$out" bs=1024 seek=8 conv=notrunc status=none
echo "mksd: $out ($(stat -c %s "$out") bytes): SPL at 8 KiB, FAT16 boot partition at 1 MiB"
