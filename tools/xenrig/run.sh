#!/bin/sh
# `make run`: serve IMAGE.xen under Xen in QEMU at http://127.0.0.1:${PORT:-8080}/ until Ctrl-C.
# Usage: tools/xenrig/run.sh IMAGE.xen IMAGE.xl [DEST=SRC...]    (env: PORT, GUEST_IP, MEM)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { echo "usage: $0 IMAGE.xen IMAGE.xl [DEST=SRC...]" >&2; exit 2; }
exec python3 "$HERE/run.py" "$@"
