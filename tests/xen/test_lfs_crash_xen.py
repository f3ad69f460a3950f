"""littlefs crash safety on Xen 4.17 in QEMU, one boot: the xentest_lfs_crash guest
(blkfront, flush = FLUSH_DISKCACHE through Linux's blkback) puts keys in a loop and is
`xl destroy`ed at random moments, 20 times (every 5th while it boots and mounts); after
each, dom0 sends the image (gzip + base64, with its sha256) over the serial console and
littlefs-python (the C reference) checks it on the host: every acknowledged key holds its
last acknowledged value or a later one, whole, and the next guest mounts it again. Then
`notes` keeps a note across `xl destroy` + `xl create`."""
import base64
import gzip
import hashlib
import json
import os
import re
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [HERE, os.path.join(ROOT, "tests", "cli")]
from rig import morgana_build, retarget_xl  # noqa: E402

pytest.importorskip("littlefs")
from lfs_crash import Model  # noqa: E402

BUILD = os.path.join(ROOT, "build", "lfs-crash-xen")
ROUNDS = 20
NOTES_IP, NOTES_MAC = "10.0.2.40", "00:16:3e:00:00:40"

SCRIPT = r'''
dmesg -n 1
# xl under TCG now and then aborts or meets a xenstore error: try again (same name)
create() {
  for t in 1 2 3; do
    timeout 120 xl create "$1" "name=\"$2\"" && return 0
    timeout 60 xl destroy "$2" 2>/dev/null
    sleep 1
  done
  echo "@@ create-failed $2"
  return 1
}
# xl destroy, again while xl still knows the domain (once under TCG one survived it)
kill_dom() {
  timeout 60 xl destroy "$1"
  n=0
  while timeout 20 xl domid "$1" >/dev/null 2>&1 && [ $n -lt 10 ]; do
    sleep 1
    timeout 60 xl destroy "$1"
    n=$((n + 1))
  done
}
# after kill_dom: wait until blkback's loop device has let go of the file (its last
# writes are in it), then snapshot it, so the checksum and the image sent agree
settle() {
  n=0
  while losetup -a | grep -q "$1" && [ $n -lt 100 ]; do usleep 100000; n=$((n + 1)); done
  [ $n -ge 100 ] && echo "@@ loop still holds $1"
  sync
  cp "$1" /tmp/snap.img
}
post() {
  body="{\"text\": \"$1\"}"
  printf 'POST /api/notes HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' ${#body} "$body" | timeout 20 nc @IP@ 80
  echo
}
cp /guest/notes-data.img /tmp/notes.img
(
create /guest/notes.xl notes
wait_http @IP@ 80 120
echo "@@ post1 $(post 'kept across destroy' | tail -n 1)"
echo "@@ post2 $(post 'second note' | tail -n 1)"
kill_dom notes
settle /tmp/notes.img
)
(
create /guest/notes.xl notes
wait_http @IP@ 80 120
echo "@@ after $(printf 'GET /api/notes HTTP/1.0\r\n\r\n' | timeout 20 nc @IP@ 80 | tail -n 1)"
xl destroy notes
show_console notes
)
cp /guest/lfs-data.img /tmp/lfs.img
# each stage in a subshell: a busybox tool that segfaults under TCG (seen: an empty
# uptime, an arithmetic error that ends the shell) costs one stage, not the script
for r in $(seq 1 @ROUNDS@); do (
  g=lfs$r
  create /guest/lfs.xl $g
  if [ $((r % 5)) -eq 0 ]; then
    usleep $((RANDOM % 1500 * 1000))
  else
    wait_console $g "UP next" 120
    usleep $((RANDOM % 2500 * 1000))
  fi
  kill_dom $g
  settle /tmp/lfs.img
  echo "@@ round $r"
  echo "@@ domains $(timeout 20 xl list 2>/dev/null | tail -n +2 | cut -d" " -f1 | tr "\n" " ")"
  show_console $g
  echo "@@ sha $r $(sha256sum /tmp/snap.img | cut -d' ' -f1)"
  echo "@@ image $r begin"
  gzip -1 -c /tmp/snap.img | base64
  echo "@@ image $r end"
) done
(
create /guest/lfs.xl lfsfinal
wait_console lfsfinal "UP next" 120
kill_dom lfsfinal
show_console lfsfinal
)
free
'''


def _xl(d, name, disk_path, **kw):
    with open(os.path.join(d, name + ".xl")) as f:
        text = f.read()
    return retarget_xl(text, "/guest/%s.xen" % name, name=name,
                       disk=["format=raw,vdev=xvda,access=rw,target=" + disk_path],
                       **kw).encode()


@pytest.fixture(scope="module")
def run(rig):
    for sub in ("xentest_lfs_crash", "notes"):      # fresh volumes every time
        img = os.path.join(BUILD, sub, "data.img")
        if os.path.exists(img):
            os.unlink(img)
    crash = morgana_build("tests/xen/configs/xentest_lfs_crash.py", BUILD, "DATA_MIB=1")
    notes = morgana_build("configs/notes.py", BUILD, "DHCP=no", "IP=" + NOTES_IP,
                          "GATEWAY=10.0.2.2")
    files = {"/guest/xentest_lfs_crash.xen": os.path.join(crash, "xentest_lfs_crash.xen"),
             "/guest/lfs-data.img": os.path.join(crash, "data.img"),
             "/guest/lfs.xl": _xl(crash, "xentest_lfs_crash", "/tmp/lfs.img"),
             "/guest/notes.xen": os.path.join(notes, "notes.xen"),
             "/guest/notes-data.img": os.path.join(notes, "data.img"),
             "/guest/notes.xl": _xl(notes, "notes", "/tmp/notes.img",
                                    vif=["bridge=xenbr0,mac=" + NOTES_MAC])}
    script = SCRIPT.replace("@ROUNDS@", str(ROUNDS)).replace("@IP@", NOTES_IP)
    s = rig.boot(files=files, script=script, name="lfs_crash_xen", timeout=1500)
    s.expect(r"@@ ci-exit", 1400)       # not s.wait(): a dom0 shell that died stays up
    yield s
    s.close()


def _rounds(text):
    for r in range(1, ROUNDS + 1):
        m = re.search(r"^@@ round %d$(.*?)^@@ sha %d (\w+)$\n@@ image %d begin\n(.*?)"
                      r"^@@ image %d end$" % (r, r, r, r), text, re.M | re.S)
        assert m, "round %d missing from the log" % r
        img = gzip.decompress(base64.b64decode("".join(m.group(3).split())))
        assert hashlib.sha256(img).hexdigest() == m.group(2), \
            "round %d: the image was damaged on the serial line" % r
        dm = re.search(r"^@@ domains (.*)$", m.group(1), re.M)
        left = dm.group(1).split() if dm else []    # [] if xl list itself failed
        assert left in ([], ["Domain-0"]), \
            "round %d: %s survived xl destroy: the rig, not the store" % (r, left)
        yield m.group(1), img


def test_xl_destroy_at_random_moments(run):
    model = Model(23)
    for out, img in _rounds(run.text):
        assert len(img) == 1 << 20
        model.round(out, img, lossy=True)
    assert model.rounds == ROUNDS and model.acked > ROUNDS, model.acked
    final = run.console("lfsfinal")
    top = max(model.state.values()) if model.state else 0
    assert final and ("UP next=%d keys=%d" % (top + 1, len(model.state))) in final, final
    print("xen: rounds %d, acknowledged puts seen %d, later or in-flight values found %d"
          % (model.rounds, model.acked, model.inflight_hits))


def test_notes_survive_xl_destroy(run):
    text = run.text
    p1 = re.search(r"^@@ post1 (.*)$", text, re.M)
    after = re.search(r"^@@ after (.*)$", text, re.M)
    assert p1 and after, run.tail()
    note = json.loads(p1.group(1))
    assert note["text"] == "kept across destroy"
    notes = json.loads(after.group(1))["notes"]
    assert [n["text"] for n in notes] == ["kept across destroy", "second note"], notes
    assert "2 notes on disk" in (run.console("notes") or ""), run.console("notes")
