# Acceptance through the real tool: `morgana configure configs/www.py --target unix-socket
# FS=crunch|fat`, `morgana build`, `morgana run` (MicroPython and CPython); curl gets every
# file of htdocs/ with the right bytes and type, and headless Chromium renders the page
# (CSS + image) like python3 -m http.server serving the same htdocs/.
import os
import subprocess
import sys
import urllib.parse

import pytest

import www_rig
import screenshots
from screenshots import HTDOCS, assert_like, assert_shows_htdocs, screenshot

MORGANA = os.path.join(os.path.dirname(sys.executable), "morgana")


def morgana(bdir, *args):
    r = subprocess.run([MORGANA, "-B", bdir] + list(args), capture_output=True, text=True,
                       cwd=www_rig.TOP, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


class Run:
    def __init__(self, bdir, python):
        self.proc = subprocess.Popen([MORGANA, "-B", bdir, "run", "--python", python],
                                     cwd=www_rig.TOP, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)

    def stop(self):
        www_rig.stop_process(self.proc)
        return self.proc.stdout.read().decode(errors="replace")


@pytest.fixture(scope="module", params=[(fs, py) for fs in ("crunch", "fat")
                                        for py in ("micropython", "cpython")],
                ids=lambda p: "%s-%s" % p)
def www(request, tmp_path_factory):
    fs, python = request.param
    bdir = str(tmp_path_factory.mktemp("morgana-" + fs))
    port = www_rig.free_port()
    morgana(bdir, "configure", "configs/www.py", "--target", "unix-socket",
            "PORT=%d" % port, "IP=127.0.0.1", "FS=" + fs)
    morgana(bdir, "build")
    run = Run(bdir, python)
    try:
        www_rig.wait_port(port, 30)
    except RuntimeError:
        raise AssertionError("morgana run did not listen: " + run.stop())
    yield "http://127.0.0.1:%d/" % port
    run.stop()


def test_curl_every_htdocs_file(www):
    files = www_rig.site_files(HTDOCS)
    assert "index.html" in files and len(files) >= 3
    for name, data in sorted(files.items()):
        r = subprocess.run(["curl", "-sS", "--max-time", "30", "-w", "\n%{http_code} "
                            "%{content_type}", www + urllib.parse.quote(name)],
                           capture_output=True, timeout=60)
        body, _, tail = r.stdout.rpartition(b"\n")
        code, ctype = tail.decode().split(" ", 1)
        assert code == "200" and body == data, name
        assert ctype.split(";")[0] == {"html": "text/html", "css": "text/css",
                                       "png": "image/png"}.get(name.rsplit(".")[-1],
                                                              ctype.split(";")[0])


@pytest.fixture(scope="module")
def htdocs_reference(tmp_path_factory):
    return screenshots.htdocs_reference(str(tmp_path_factory.mktemp("ref-htdocs")))


def test_chromium_renders_htdocs_like_reference(www, htdocs_reference, tmp_path):
    img = screenshot(www, str(tmp_path / "ours.png"), str(tmp_path))
    assert_shows_htdocs(img)
    assert_like(img, htdocs_reference)
