# www through the morgana command on unix-socket: configure, build, run (MicroPython and
# CPython), curl gets htdocs/ byte for byte; FS=fat serves the same files from a FAT image.
import os
import socket
import subprocess
import time

import pytest

from cli_helpers import TOP, MORGANA, morgana

HTDOCS = os.path.join(TOP, "htdocs")


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def _curl(url, *extra):
    r = subprocess.run(["curl", "-s", "-S", "--max-time", "10", "-D", "-", url] + list(extra),
                       capture_output=True, timeout=20)
    assert r.returncode == 0, r.stderr
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    return head.decode(), body


def _serve(bdir, python):
    p = subprocess.Popen([MORGANA, "-B", str(bdir), "run", "--python", python], cwd=TOP,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    line = p.stdout.readline().decode()          # "... http: serving on port N"
    assert "serving on port" in line, line
    return p


@pytest.mark.parametrize("python,fs", [("micropython", "crunch"), ("cpython", "crunch"),
                                       ("micropython", "fat")])
def test_www_serves_htdocs(bdir, python, fs):
    port = _free_port()
    morgana(bdir, "configure", "configs/www.py", "--target", "unix-socket",
            "PORT=%d" % port, "FS=" + fs)
    out = morgana(bdir, "build").stdout
    assert ("crunch htdocs" if fs == "crunch" else "FAT image of htdocs") in out
    p = _serve(bdir, python)
    try:
        for name in sorted(os.listdir(HTDOCS)):
            with open(os.path.join(HTDOCS, name), "rb") as f:
                want = f.read()
            head, body = _curl("http://127.0.0.1:%d/%s" % (port, name))
            assert head.startswith("HTTP/1.1 200"), head
            assert body == want, name
        head, body = _curl("http://127.0.0.1:%d/" % port)
        assert "text/html" in head
        with open(os.path.join(HTDOCS, "index.html"), "rb") as f:
            assert body == f.read()
        head, _ = _curl("http://127.0.0.1:%d/missing.html" % port)
        assert head.startswith("HTTP/1.1 404"), head
    finally:
        p.terminate()
        out = p.communicate(timeout=10)[0].decode()
    assert '"GET /index.html" 200' in out, out       # the access log, via morgana.logs


def test_configure_errors_name_the_culprit(bdir):
    r = morgana(bdir, "configure", "configs/www.py", "--target", "unix-socket", "PORT=http",
                check=False)
    assert r.returncode == 1 and "option PORT: 'http' is not an integer" in r.stderr
    r = morgana(bdir, "configure", "configs/www.py", "FS=ext4", check=False)
    assert "option FS: 'ext4' is not one of crunch|fat" in r.stderr
    r = morgana(bdir, "configure", "configs/www.py", "--target", "xen-x86_64", "NET=socket",
                check=False)
    assert "option NET: 'socket' is not available on target xen-x86_64" in r.stderr
    r = morgana(bdir, "configure", "configs/www.py", "--target", "vmware", check=False)
    assert "unknown target 'vmware'" in r.stderr
    r = morgana(bdir, "configure", "configs/nope.py", check=False)
    assert "configs/nope.py not found" in r.stderr
    r = morgana(bdir, "configure", "configs/www.py", "port=80", check=False)
    assert "'port=80': option names are UPPER_CASE" in r.stderr
    r = morgana(bdir, "build", check=False)
    assert "nothing configured yet" in r.stderr


def test_clean_removes_build(bdir):
    morgana(bdir, "configure", "configs/hello.py")
    assert os.path.isdir(os.path.join(str(bdir), "hello"))
    assert "removed" in morgana(bdir, "clean").stdout
    assert not os.path.exists(os.path.join(str(bdir), "hello"))
