"""Issue 6 on Xen 4.17 in QEMU: the `www` unikernel serves every file of htdocs/ to the
host (QEMU port forward -> dom0's bridge -> netfront -> our TCP/IP stack -> HTTP) with the
right bytes, from the crunch store frozen into the image and from a FAT image on a
blkfront disk; headless Chromium renders the page (HTML + CSS + image) from each like a
reference server serving the same htdocs/. One boot, both guests side by side."""
import os
import sys
import time
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "www"))
from rig import XenRig, free_port, morgana_build, retarget_xl  # noqa: E402
import screenshots  # noqa: E402
from screenshots import HTDOCS, assert_like, assert_shows_htdocs, screenshot  # noqa: E402

GUESTS = {"crunch": ("10.0.2.20", "00:16:3e:00:00:20"), "fat": ("10.0.2.21", "00:16:3e:00:00:21")}


def build(fs, ip):
    return morgana_build("configs/www.py", os.path.join(ROOT, "build", "www-xen-" + fs),
                         "FS=" + fs, "DHCP=no", "IP=" + ip, "GATEWAY=10.0.2.2")


@pytest.fixture(scope="module")
def served():
    files, ports, script = {}, {}, []
    for fs, (ip, mac) in GUESTS.items():
        d = build(fs, ip)
        with open(os.path.join(d, "www.xl")) as f:
            text = f.read()
        settings = dict(name="www-" + fs, vif=["bridge=xenbr0,mac=" + mac])
        if fs == "fat":
            settings["disk"] = ["format=raw, vdev=xvda, access=ro, target=/guest/kv.img"]
            files["/guest/kv.img"] = os.path.join(d, "kv.img")
        files["/guest/www-%s.xen" % fs] = os.path.join(d, "www.xen")
        files["/guest/www-%s.xl" % fs] = retarget_xl(text, "/guest/www-%s.xen" % fs,
                                                     **settings).encode()
        ports[fs] = free_port()
        script.append("xl_create /guest/www-%s.xl\nwait_http %s 80 120" % (fs, ip))
    script.append("host_wait served")
    hostfwd = [(ports[fs], GUESTS[fs][0], 80) for fs in GUESTS]
    with XenRig().boot(files=files, script="\n".join(script), name="www_xen", timeout=600,
                       hostfwd=hostfwd) as s:
        s.expect(r"@@ host-wait served", 400)
        yield s, ports
        s.release()


def get(url):
    for attempt in range(3):     # QEMU's user-mode NAT can drop a first connection
        try:
            return urllib.request.urlopen(url, timeout=30).read()
        except OSError:
            if attempt == 2:
                raise
            time.sleep(2)


def htdocs_files():
    out = []
    for base, _dirs, names in os.walk(HTDOCS):
        for n in names:
            out.append(os.path.relpath(os.path.join(base, n), HTDOCS))
    return sorted(out)


@pytest.mark.parametrize("fs", sorted(GUESTS))
def test_every_htdocs_file_with_the_right_bytes(served, fs):
    session, ports = served
    assert session.find(r"@@ [\d.]+ http-200 " + GUESTS[fs][0])     # dom0 -> guest first
    names = htdocs_files()
    assert len(names) >= 3
    for name in names:
        with open(os.path.join(HTDOCS, name), "rb") as f:
            want = f.read()
        got = get("http://127.0.0.1:%d/%s" % (ports[fs], name))
        assert got == want, "%s via %s: %d bytes, want %d" % (name, fs, len(got), len(want))
    index = urllib.request.urlopen("http://127.0.0.1:%d/" % ports[fs], timeout=30).read()
    with open(os.path.join(HTDOCS, "index.html"), "rb") as f:
        assert index == f.read()                                     # / is index.html


@pytest.fixture(scope="module")
def htdocs_reference(tmp_path_factory):
    return screenshots.htdocs_reference(str(tmp_path_factory.mktemp("ref-htdocs")))


@pytest.mark.parametrize("fs", sorted(GUESTS))
def test_chromium_renders_the_page_like_the_reference(served, htdocs_reference, fs, tmp_path):
    url = "http://127.0.0.1:%d/" % served[1][fs]
    get(url)                         # the path through QEMU's NAT is up before Chromium
    img = screenshot(url, str(tmp_path / "ours.png"), str(tmp_path))
    assert_shows_htdocs(img)         # style.css's header and mirage.png's sun are there
    assert_like(img, htdocs_reference)
