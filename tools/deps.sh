#!/bin/sh
# Install what the build and the tests need, idempotently (apt + pip).
# Usage: tools/deps.sh [build|test|run|arm|bench]   (test: everything `make test` uses)
set -eu
what=${1:-test}
need=""
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
want() { for p in "$@"; do have "$p" || need="$need $p"; done; }
want build-essential pkg-config libffi-dev libxen-dev dpkg-dev python3 python3-venv xz-utils cpio
case $what in
  test|run|bench) want qemu-system-x86 iproute2 curl bc busybox-static ;;
esac
case $what in
  test|bench) want dnsmasq-base tcpdump iputils-ping wrk dnsutils dosfstools mtools fdisk \
                   chromium chromium-driver fonts-dejavu-core ;;
esac
case $what in
  test|arm) want gcc-arm-linux-gnueabihf binutils-arm-linux-gnueabihf qemu-system-arm \
                 u-boot-tools u-boot-qemu device-tree-compiler mtools dosfstools fdisk ;;
esac
case $what in
  bench) want nsd dnsperf ;;
esac
if [ -n "$need" ]; then
  echo "deps: installing$need"
  [ -n "$(find /var/lib/apt/lists -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ] || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
# Python test tools into the project's venv
V=$(cd "$(dirname "$0")/.." && pwd)/.cache/venv
if [ ! -x "$V/bin/pytest" ] || [ ! -x "$V/bin/morgana" ] || ! "$V/bin/python" -c "import PIL, pytest_rerunfailures, selenium, packaging, littlefs" 2>/dev/null; then
  python3 -m venv "$V"
  "$V/bin/pip" install -q --upgrade pip
  "$V/bin/pip" install -q pytest pytest-rerunfailures hypothesis scapy pillow selenium packaging littlefs-python
  "$V/bin/pip" install -q -e "$(dirname "$0")/.."
fi
