#!/bin/sh
# Linux domU init for the ARM rig: prove the guest booted and reached userspace.
mount -t proc proc /proc
echo "RIG-DOMU-LINUX-OK $(uname -m) $(cat /proc/cmdline)"
poweroff -f
