# Headless Chromium renders the site's front page (HTML + CSS + PNG) from our server and
# from a reference server (python3 -m http.server over the same directory); the two
# screenshots must match pixel for pixel within a small tolerance, and must show both the
# stylesheet's header colour and the image's pixels (so two blank pages can't "match").
# The screenshot and comparison helpers are tests/www/screenshots.py's.
import pytest

from screenshots import W, assert_like, count_near, reference_screenshot, screenshot


@pytest.fixture(scope="module")
def reference(site, tmp_path_factory):
    img = reference_screenshot(site, str(tmp_path_factory.mktemp("ref")))
    # the reference itself must show the CSS header and the logo's yellow disc
    assert count_near(img, (0x5b, 0x2a, 0x86), (0, 0, W, 60)) > 10000
    assert count_near(img, (255, 220, 0), (0, 100, 300, 300)) > 2000
    return img


def test_page_renders_like_reference(server, reference, tmp_path):
    img = screenshot(server.url, str(tmp_path / "ours.png"), str(tmp_path))
    assert count_near(img, (255, 220, 0), (0, 100, 300, 300)) > 2000, "logo not shown"
    assert_like(img, reference)
