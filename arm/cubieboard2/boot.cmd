# U-Boot script for Morgana on the CubieBoard2 (Allwinner A20, 1 GiB at 0x40000000).
# Loads Xen, the Linux dom0 and its initramfs from the boot partition, tells Xen where
# they are through /chosen in the board's device tree, and starts Xen (a zImage) in Hyp mode.
# mksd.sh compiles it into boot.scr with `mkimage -T script`.

# Run by distro_bootcmd these name the partition we came from; else the SD card's first.
if test -z "${devtype}"; then setenv devtype mmc; setenv devnum 0; setenv distro_bootpart 1; fi
if test -z "${fdtfile}"; then setenv fdtfile sun7i-a20-cubieboard2.dtb; fi

# Load addresses: 16 MiB or more apart, clear of U-Boot (top of RAM) and of Xen, which
# relocates itself to the top of RAM as well.
setenv xen_addr    0x42000000
setenv fdt_addr    0x43000000
setenv dom0_addr   0x44000000
setenv initrd_addr 0x48000000

load ${devtype} ${devnum}:${distro_bootpart} ${fdt_addr} ${fdtfile}
load ${devtype} ${devnum}:${distro_bootpart} ${xen_addr} xen
load ${devtype} ${devnum}:${distro_bootpart} ${dom0_addr} vmlinuz
setenv dom0_size ${filesize}
load ${devtype} ${devnum}:${distro_bootpart} ${initrd_addr} initrd.gz
setenv initrd_size ${filesize}

# Xen's boot protocol (xen docs/misc/arm/device-tree/booting.txt): modules under /chosen.
fdt addr ${fdt_addr}
fdt resize 8192
fdt set /chosen \#address-cells <1>
fdt set /chosen \#size-cells <1>
fdt set /chosen xen,xen-bootargs "console=dtuart dtuart=serial0 dom0_mem=256M dom0_max_vcpus=1"
fdt set /chosen xen,dom0-bootargs "console=hvc0 rdinit=/init"
fdt mknode /chosen module@0
fdt set /chosen/module@0 compatible "multiboot,kernel" "multiboot,module"
fdt set /chosen/module@0 reg <${dom0_addr} 0x${dom0_size}>
fdt mknode /chosen module@1
fdt set /chosen/module@1 compatible "multiboot,ramdisk" "multiboot,module"
fdt set /chosen/module@1 reg <${initrd_addr} 0x${initrd_size}>

echo "Morgana: starting Xen (dom0 ${dom0_size} bytes, initramfs ${initrd_size} bytes)"
bootz ${xen_addr} - ${fdt_addr}
