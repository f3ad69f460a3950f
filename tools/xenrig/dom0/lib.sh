# Helpers for dom0 test scripts (sourced by /init and before /ci.sh; busybox sh).
# Every line the host harness parses starts with "@@ " (see tests/xen/rig.py):
#   @@ UPTIME NAME           a timestamped mark (dom0 uptime, seconds)
#   @@ exit GUEST REASON     how a guest ended: poweroff reboot suspend crash watchdog
#                            soft_reset, gone (destroyed), timeout
#   @@ console GUEST begin / @@ console GUEST end   around a guest's console log
#   @@ host-wait TAG         the script blocks until the host sends a line

CONSOLE_DIR=/var/log/xen/console

mark() {
  read -r up _ < /proc/uptime
  echo "@@ $up $*"
}

uptime_s() {
  read -r up _ < /proc/uptime
  echo "${up%.*}"
}

has_arg() { grep -q " $1" /proc/cmdline; }

# xenbr0 (10.0.2.10) always; with xenrig.net on the kernel command line QEMU's virtio NIC joins
# it, so guests on the bridge reach the user-mode network (gateway 10.0.2.2) and host port
# forwards. 10.0.2.10 lies outside QEMU's DHCP pool (.15-.30), so a DHCP guest never clashes.
net_up() {
  ip link set lo up
  brctl addbr xenbr0
  # forward at once (busybox's brctl has no setfd); STP is off by default
  echo 0 > /sys/class/net/xenbr0/bridge/forward_delay
  ip link set xenbr0 up
  ip addr add 10.0.2.10/24 dev xenbr0
  has_arg xenrig.net || return 0
  modprobe virtio_pci
  modprobe virtio_net
  n=0
  while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 50 ]; do usleep 100000; n=$((n + 1)); done
  ip link set eth0 up
  brctl addif xenbr0 eth0
  ip route add default via 10.0.2.2
}

guest_log() { echo "$CONSOLE_DIR/guest-$1.log"; }

# xl_create FILE [KEY=VALUE...]: marks around `xl create` (which returns once the domain runs)
xl_create() {
  mark "xl-create $1"
  xl create "$@"
  rc=$?
  mark "xl-created $1 rc=$rc"
  return $rc
}

# wait_console GUEST REGEX [TIMEOUT_S]: poll the guest's console log for an extended regex
wait_console() {
  end=$(($(uptime_s) + ${3:-60}))
  while ! grep -Eq "$2" "$(guest_log "$1")" 2>/dev/null; do
    [ "$(uptime_s)" -ge $end ] && { mark "console $1 timeout"; return 1; }
    usleep 20000
  done
  mark "console $1 matched"
}

# wait_first_line GUEST [TIMEOUT_S]: the guest's first complete console line
wait_first_line() {
  end=$(($(uptime_s) + ${2:-60}))
  while [ "$(cat "$(guest_log "$1")" 2>/dev/null | wc -l)" -lt 1 ]; do
    [ "$(uptime_s)" -ge $end ] && { mark "first-line $1 timeout"; return 1; }
    usleep 20000
  done
  mark "first-line $1"
}

# wait_http IP [PORT] [TIMEOUT_S]: until GET / answers 200 (busybox wget is not used: the
# static one segfaults on name lookups)
wait_http() {
  end=$(($(uptime_s) + ${3:-60}))
  while :; do
    status=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 2 nc "$1" "${2:-80}" 2>/dev/null | head -n 1)
    case $status in *" 200 "*) mark "http-200 $1"; return 0 ;; esac
    [ "$(uptime_s)" -ge $end ] && { mark "http-timeout $1"; return 1; }
    usleep 50000
  done
}

# wait_dns IP NAME [TIMEOUT_S]: until the DNS server at IP answers for NAME (busybox
# nslookup exits 0 once it has an answer)
wait_dns() {
  end=$(($(uptime_s) + ${3:-60}))
  while ! timeout 2 nslookup "$2" "$1" >/dev/null 2>&1; do
    [ "$(uptime_s)" -ge $end ] && { mark "dns-timeout $1"; return 1; }
    usleep 50000
  done
  mark "dns-ready $1"
}

# wait_exit GUEST [TIMEOUT_S]: how the guest ended. With on_poweroff/on_crash = "preserve"
# the domain stays, shut down, and `xl list -v` shows Xen's shutdown reason code. Parsed
# with shell builtins only: fewer processes, fewer things that can fail in the loop.
wait_exit() {
  g=$1
  end=$(($(uptime_s) + ${2:-60}))
  while :; do
    # bounded: once, after an xl segfault, the next xl hung until the test's timeout
    out=$(timeout 20 xl list -v "$g" 2>/tmp/xl-list.err)
    rc=$?
    if [ $rc -ge 128 ]; then
      # xl itself died on a signal (a segfault in ld.so, seen now and then under TCG) or
      # was killed by timeout: that says nothing about the guest, so ask again
      echo "@@ xl-list-died rc=$rc"
      usleep 100000
      continue
    elif [ $rc -ne 0 ]; then
      # xl knows no such domain: destroyed (on_* = "destroy"). Asked three times in a
      # row: once, under TCG, xl failed like this for a domain that was running.
      gone=$((${gone:-0} + 1))
      if [ $gone -ge 3 ]; then
        echo "@@ xl-list-error $(cat /tmp/xl-list.err)"
        echo "@@ exit $g gone"
        gone=0
        return 0
      fi
      usleep 100000
      continue
    fi
    gone=0
    set -f
    # words 1-10: the header; then name id mem vcpus state time uuid reason-code label
    set -- $out
    set +f
    state=${15} code=${18}
    case $state in
      ???s*|????c*)
        case $code in
          0) why=poweroff ;; 1) why=reboot ;; 2) why=suspend ;; 3) why=crash ;;
          4) why=watchdog ;; 5) why=soft_reset ;; *) why="code-$code" ;;
        esac
        mark "exit $g"
        echo "@@ exit $g $why"
        return 0 ;;
    esac
    [ "$(uptime_s)" -ge $end ] && { echo "@@ exit $g timeout"; return 1; }
    usleep 50000
  done
}

show_console() {
  echo "@@ console $1 begin"
  cat "$(guest_log "$1")" 2>/dev/null
  echo
  echo "@@ console $1 end"
}

# host_wait TAG: block until the host sends a line on the serial console (Session.release)
host_wait() {
  echo "@@ host-wait $1"
  read -r _
}

# disk_image PATH MB: a zero-filled raw disk image
disk_image() { dd if=/dev/zero of="$1" bs=1M count="$2" 2>/dev/null; }
