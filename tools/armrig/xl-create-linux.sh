#!/bin/sh
# /rig-run.sh for the dom0 rig: start a Linux domU with xl and show its console log.
# xenconsoled (started by init) writes guest consoles to /var/log/xen/console.
cat > /tmp/linux.cfg <<CFG
name = "linux"
kernel = "/guest/vmlinuz"
ramdisk = "/guest/domu.cpio.gz"
extra = "console=hvc0"
memory = 128
vcpus = 1
CFG
xl create /tmp/linux.cfg && echo "RIG-XL-CREATE-OK"
for i in $(seq 1 60); do
  grep -q RIG-DOMU-LINUX-OK /var/log/xen/console/guest-linux.log 2>/dev/null && break
  sleep 1
done
grep RIG-DOMU-LINUX-OK /var/log/xen/console/guest-linux.log | sed 's/^/domU: /'
