#!/bin/sh
# /rig-run.sh for the dom0 rig: `xl create /guest/guest.cfg`, wait (up to 60 s) for the
# pattern in /guest/until in the guest's console log, and copy that log to the serial line.
name=$(sed -n 's/^name *= *"\(.*\)"/\1/p' /guest/guest.cfg)
log=/var/log/xen/console/guest-$name.log
xl create /guest/guest.cfg && echo "RIG-XL-CREATE-OK"
for i in $(seq 1 60); do
  grep -Eq "$(cat /guest/until)" $log 2>/dev/null && break
  sleep 1
done
sed 's/^/domU: /' $log
xl list
