#!/bin/sh
# Fetch MicroPython's source from Debian's source package (never committed).
# Result: $CACHE/micropython (a symlink to the unpacked, patched tree).
set -eu
VER=1.25.0+ds-1
CACHE=${CACHE:-$(cd "$(dirname "$0")/.." && pwd)/.cache}
DEST=$CACHE/micropython
[ -f "$DEST/py/mpconfig.h" ] && exit 0
mkdir -p "$CACHE/src"
SRC=/etc/apt/sources.list.d/morgana-trixie-src.sources
if ! grep -rqs 'trixie' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || \
   ! grep -rqs 'deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null; then
  cat > $SRC <<EOS
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
  apt-get update -qq
fi
command -v dpkg-source >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpkg-dev
cd "$CACHE/src"
[ -f "micropython_$VER.dsc" ] || apt-get source --download-only "micropython=$VER" 2>/dev/null || {
  apt-get update -qq; apt-get source --download-only "micropython=$VER"; }
rm -rf "micropython-1.25.0"
dpkg-source --no-check -x "micropython_$VER.dsc" micropython-1.25.0 >/dev/null
ln -sfn "src/micropython-1.25.0" "$DEST"
echo "micropython source: $DEST"
