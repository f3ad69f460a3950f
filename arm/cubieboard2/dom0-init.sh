#!/bin/sh
# Dom0 init on the CubieBoard2: Xen plumbing, the boot partition at /boot, a bridge
# xenbr0 over the on-board Ethernet for the guests, then `xl create` www and a shell.
export PATH=/bin:/usr/bin:/usr/sbin:/usr/lib/xen-4.17/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
for m in $(cat /lib/rig-modules/order); do insmod /lib/rig-modules/$m.ko 2>/dev/null; done
mount -t xenfs xenfs /proc/xen
mkdir -p /var/run/xen /var/lib/xen /var/log/xen/console /run/xen /boot
# The SD card's first partition (vda1: the same image under QEMU, tests/arm); the MMC
# driver probes asynchronously.
for i in $(seq 1 20); do [ -b /dev/mmcblk0p1 ] || [ -b /dev/vda1 ] && break; sleep 0.5; done
for d in /dev/mmcblk0p1 /dev/vda1; do
  [ -b $d ] && mount -t vfat -o ro $d /boot && echo "morgana: boot partition $d" && break
done
[ -f /boot/www.xl ] || echo "morgana: no boot partition with www.xl"
xenstored --pid-file=/var/run/xen/xenstored.pid
xen-init-dom0
xenconsoled --pid-file=/var/run/xen/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console
brctl addbr xenbr0
for i in $(seq 1 20); do [ -e /sys/class/net/eth0 ] && break; sleep 0.5; done
brctl addif xenbr0 eth0 && ip link set eth0 up
ip link set xenbr0 up
if xl create /boot/www.xl; then
  echo "morgana: www started; its console: xl console www (Ctrl-] leaves)"
else
  echo "morgana: xl create /boot/www.xl failed"
fi
xl list
exec setsid cttyhack sh
