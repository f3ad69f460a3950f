#!/bin/sh
# Dom0 init for the ARM rig: bring up the Xen device nodes and daemons the way the
# xencommons service would, run /rig-run.sh (the test's commands), then power off.
export PATH=/bin:/usr/bin:/usr/sbin:/usr/lib/xen-4.17/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
for m in $(cat /lib/rig-modules/order); do
  insmod /lib/rig-modules/$m.ko || echo "rig: insmod $m failed"
done
mount -t xenfs xenfs /proc/xen
mkdir -p /var/run/xen /var/lib/xen /var/log/xen/console /run/xen
xenstored --pid-file=/var/run/xen/xenstored.pid
xen-init-dom0
xenconsoled --pid-file=/var/run/xen/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console
if xl info > /tmp/xlinfo 2>&1; then
  grep -E '^(host|release|machine|nr_cpus|total_memory|xen_version|xen_caps)' /tmp/xlinfo
  echo "RIG-DOM0-XL-INFO-OK"
else
  cat /tmp/xlinfo; echo "RIG-DOM0-XL-INFO-FAILED"
fi
[ -x /rig-run.sh ] && /rig-run.sh
echo "RIG-DOM0-DONE"
poweroff -f
