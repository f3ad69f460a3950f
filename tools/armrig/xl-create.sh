#!/bin/sh
# /rig-run.sh for the dom0 rig: `xl create /guest/guest.cfg`, wait (up to 60 s) for the
# pattern in /guest/until in the guest's console log, and copy that log to the serial line.
# A guest with a vif gets the bridge xenbr0 over eth0 (QEMU's user-mode LAN).
name=$(sed -n 's/^name *= *"\(.*\)"/\1/p' /guest/guest.cfg)
log=/var/log/xen/console/guest-$name.log
if grep -q '^vif' /guest/guest.cfg; then
  brctl addbr xenbr0 && brctl addif xenbr0 eth0 && ip link set eth0 up && ip link set xenbr0 up \
    && echo "RIG-BRIDGE-UP"
fi
xl create /guest/guest.cfg && echo "RIG-XL-CREATE-OK"
for i in $(seq 1 60); do
  grep -Eq "$(cat /guest/until)" $log 2>/dev/null && break
  sleep 1
done
sed 's/^/domU: /' $log
xl list
# keep the guest running while the host talks to it (the rig stops QEMU)
[ -f /guest/linger ] && sleep 600
