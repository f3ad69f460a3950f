# Headless Chromium screenshots of a page and the ways the www tests compare them: with
# a reference server's rendering of the same files (python3 -m http.server), pixel by
# pixel, and by counting the pixels of a colour that only the CSS or an image can paint.
# Used by tests/www (unix targets, the tap target) and tests/xen/test_www_xen.py.
import os
import subprocess
import sys

from PIL import Image

import www_rig

W, H = 800, 600
HTDOCS = os.path.join(www_rig.TOP, "htdocs")


def screenshot(url, out, tmp, wrap=()):
    """url rendered at W x H into the PNG out, as an RGB image. wrap: a command prefix to
    run Chromium under (e.g. ip netns exec NAME)."""
    ud = os.path.join(tmp, "chromium-profile-%d" % abs(hash(out)))
    r = subprocess.run(list(wrap) + [
        "chromium", "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--hide-scrollbars", "--user-data-dir=" + ud, "--window-size=%d,%d" % (W, H),
        "--screenshot=" + out, url], capture_output=True, timeout=120)
    assert os.path.exists(out), r.stderr.decode()[-2000:]
    return Image.open(out).convert("RGB")


def reference_screenshot(directory, tmp):
    """directory's index page as python3 -m http.server serves it, screenshot into tmp."""
    port = www_rig.free_port()
    p = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                          "127.0.0.1", "-d", directory], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        www_rig.wait_port(port)
        return screenshot("http://127.0.0.1:%d/" % port, os.path.join(tmp, "ref.png"), tmp)
    finally:
        p.terminate()
        p.wait()


def htdocs_reference(tmp):
    """reference_screenshot of htdocs/, checked to show its CSS and image."""
    img = reference_screenshot(HTDOCS, tmp)
    assert_shows_htdocs(img)
    return img


def assert_like(img, reference, limit=0.002):
    frac = diff_fraction(img, reference)
    assert frac < limit, "%.4f of the pixels differ from the reference" % frac


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


def assert_shows_htdocs(img):
    """img is htdocs/index.html styled and with its image: style.css's header gradient
    (#28407a at the top, #4a86c8 at the bottom; unstyled, the page is white there) and,
    centred in it as the CSS lays it out, mirage.png's orange sun (~2450 pixels; the
    picture's sky and sea are header blues, so the sun is what tells it is there)."""
    header = (0, 0, W, 310)
    assert count_near(img, (0x28, 0x40, 0x7a), header) > 40000, "no header gradient (top)"
    assert count_near(img, (0x4a, 0x86, 0xc8), header) > 40000, "no header gradient (foot)"
    assert count_near(img, (255, 170, 80), (320, 20, 480, 190), tol=40) > 2000, \
        "mirage.png's sun is not in the header"
