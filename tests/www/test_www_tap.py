# The www unikernel on the unix-tap target: our own TCP/IP stack on a TAP device inside a
# throw-away network namespace (tests/tap/netns.py), serving htdocs/ from crunch or FAT.
# curl (in the namespace) gets every file byte for byte, a Range and a 304; headless
# Chromium in the namespace renders the page like the reference server. Needs root.
import os
import subprocess
import sys
import urllib.parse

import pytest

import www_rig
from screenshots import HTDOCS, assert_like, assert_shows_htdocs, htdocs_reference, screenshot
from test_www_morgana import morgana, MORGANA

sys.path.insert(0, os.path.join(www_rig.TOP, "tests", "tap"))
import netns  # noqa: E402

why = netns.can_run()
pytestmark = pytest.mark.skipif(why is not None, reason=why or "")


@pytest.fixture(scope="module", params=[(fs, py) for fs in ("crunch", "fat")
                                        for py in ("micropython", "cpython")],
                ids=lambda p: "%s-%s" % p)
def tap_www(request, tmp_path_factory):
    fs, python = request.param
    bdir = str(tmp_path_factory.mktemp("tap-" + fs))
    morgana(bdir, "configure", "configs/www.py", "--target", "unix-tap", "PORT=80",
            "IP=" + netns.STACK_IP, "TAP=tap0", "FS=" + fs)
    morgana(bdir, "build")
    ns = netns.Netns("www%s%s" % (fs[0], python[0]))
    ns.popen([MORGANA, "-B", bdir, "run", "--python", python], cwd=www_rig.TOP,
             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = "http://%s/" % netns.STACK_IP
    ok = False
    for _ in range(60):
        r = ns.run("curl", "-s", "-o", "/dev/null", "--max-time", "1", url, check=False)
        if r.returncode == 0:
            ok = True
            break
    if not ok:
        ns.close()
        raise AssertionError("www on unix-tap did not answer")
    yield ns, url
    ns.close()


def curl(ns, *args):
    r = subprocess.run(["ip", "netns", "exec", ns.name, "curl", "-sS", "--max-time", "30"]
                       + list(args), capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_every_file_over_our_stack(tap_www):
    ns, url = tap_www
    files = www_rig.site_files(HTDOCS)
    for name, data in sorted(files.items()):
        assert curl(ns, url + urllib.parse.quote(name)) == data, name
    png = sorted(n for n in files if n.endswith(".png"))[0]
    assert curl(ns, "-r", "8-15", url + png) == files[png][8:16]
    head = curl(ns, "-D", "-", "-o", "/dev/null", url + "index.html").decode()
    etag = [ln.split(":", 1)[1].strip() for ln in head.split("\r\n")
            if ln.lower().startswith("etag:")][0]
    out = curl(ns, "-o", "/dev/null", "-w", "%{http_code}", "-H", "If-None-Match: " + etag,
               url + "index.html")
    assert out == b"304"


def test_chromium_over_our_stack(tap_www, tmp_path):
    ns, url = tap_www
    want = htdocs_reference(str(tmp_path))
    img = screenshot(url, str(tmp_path / "ours.png"), str(tmp_path),
                     wrap=["ip", "netns", "exec", ns.name])
    assert_shows_htdocs(img)
    assert_like(img, want)
