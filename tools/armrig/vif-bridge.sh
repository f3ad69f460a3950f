#!/bin/sh
# Hotplug script for vifs (installed as /etc/xen/scripts/vif-bridge in dom0 initramfs
# images): Debian's own is bash, we only have busybox. libxl runs it with online/offline,
# $vif (the backend netdev) and $XENBUS_PATH (its backend node) in the environment.
bridge=$(xenstore-read "$XENBUS_PATH/bridge" 2>/dev/null || echo xenbr0)
case "$1" in
  # netback only connects once hotplug-status says so
  online|add) brctl addif "$bridge" "$vif" && ip link set "$vif" up &&
    xenstore-write "$XENBUS_PATH/hotplug-status" connected ;;
  offline|remove) ip link set "$vif" down 2>/dev/null; brctl delif "$bridge" "$vif" 2>/dev/null ;;
esac
exit 0
