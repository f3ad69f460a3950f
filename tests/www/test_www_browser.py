# Headless Chromium renders the site's front page (HTML + CSS + PNG) from our server and
# from a reference server (python3 -m http.server over the same directory); the two
# screenshots must match pixel for pixel within a small tolerance, and must show both the
# stylesheet's header colour and the image's pixels (so two blank pages can't "match").
import os
import subprocess
import sys

import pytest
from PIL import Image

import www_rig

W, H = 800, 600


def screenshot(url, out, tmp):
    ud = os.path.join(tmp, "chromium-profile-%d" % abs(hash(out)))
    r = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--disable-component-update",
                        "--no-first-run", "--hide-scrollbars", "--user-data-dir=" + ud,
                        "--window-size=%d,%d" % (W, H), "--screenshot=" + out, url],
                       capture_output=True, timeout=120)
    assert os.path.exists(out), r.stderr.decode()[-2000:]
    return Image.open(out).convert("RGB")


def diff_fraction(a, b, tol=24):
    assert a.size == b.size
    pa, pb = a.load(), b.load()
    bad = 0
    for y in range(a.size[1]):
        for x in range(a.size[0]):
            p, q = pa[x, y], pb[x, y]
            if abs(p[0] - q[0]) > tol or abs(p[1] - q[1]) > tol or abs(p[2] - q[2]) > tol:
                bad += 1
    return bad / float(a.size[0] * a.size[1])


def count_near(img, rgb, box, tol=30):
    px = img.load()
    n = 0
    for y in range(box[1], box[3]):
        for x in range(box[0], box[2]):
            p = px[x, y]
            if all(abs(p[i] - rgb[i]) <= tol for i in range(3)):
                n += 1
    return n


@pytest.fixture(scope="module")
def reference(site, tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("ref"))
    port = www_rig.free_port()
    p = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                          "127.0.0.1", "-d", site], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        www_rig.wait_port(port)
        img = screenshot("http://127.0.0.1:%d/" % port, os.path.join(tmp, "ref.png"), tmp)
    finally:
        p.terminate()
        p.wait()
    # the reference itself must show the CSS header and the logo's yellow disc
    assert count_near(img, (0x5b, 0x2a, 0x86), (0, 0, W, 60)) > 10000
    assert count_near(img, (255, 220, 0), (0, 100, 300, 300)) > 2000
    return img


def test_page_renders_like_reference(server, reference, tmp_path):
    img = screenshot(server.url, str(tmp_path / "ours.png"), str(tmp_path))
    assert count_near(img, (255, 220, 0), (0, 100, 300, 300)) > 2000, "logo not shown"
    frac = diff_fraction(img, reference)
    assert frac < 0.002, "%.4f of the pixels differ from the reference" % frac
