"""Issue 11 on Xen 4.17 in QEMU: the `notes` unikernel (microdot from PyPI, unmodified, on
our asyncio and TCP/IP stack, frozen into the image) serves the host through QEMU's port
forward. A real browser (Chromium driven by Selenium) fills in the form on the fresh
guest and the note appears on the page, which must look like the same page rendered from
a file; then curl does the JSON round trip, a chunked upload, a 2 MiB body (413) and a
handler that raises (500, and the next request is served). `echo` answers TCP beside it."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [HERE, os.path.join(ROOT, "tests", "apps"), os.path.join(ROOT, "tests", "www")]
from rig import XenRig, free_port, morgana_build, retarget_xl  # noqa: E402
import notes_checks  # noqa: E402
from screenshots import assert_like  # noqa: E402

NOTES_IP, NOTES_MAC = "10.0.2.30", "00:16:3e:00:00:30"
ECHO_IP, ECHO_MAC = "10.0.2.31", "00:16:3e:00:00:31"


def guest(config, name, ip, mac, files):
    d = morgana_build(config, os.path.join(ROOT, "build", name + "-xen"), "DHCP=no",
                      "IP=" + ip, "GATEWAY=10.0.2.2")
    with open(os.path.join(d, name + ".xl")) as f:
        text = f.read()
    files["/guest/%s.xen" % name] = os.path.join(d, name + ".xen")
    extra = {}
    if os.path.exists(os.path.join(d, "data.img")):     # c.storage("data"): fresh copy
        files["/guest/%s-data.img" % name] = os.path.join(d, "data.img")
        extra["disk"] = ["format=raw,vdev=xvda,access=rw,target=/guest/%s-data.img" % name]
    files["/guest/%s.xl" % name] = retarget_xl(text, "/guest/%s.xen" % name, name=name,
                                               vif=["bridge=xenbr0,mac=" + mac],
                                               **extra).encode()
    return d


@pytest.fixture(scope="module")
def apps():
    files = {}
    guest("configs/notes.py", "notes", NOTES_IP, NOTES_MAC, files)
    guest("configs/echo.py", "echo", ECHO_IP, ECHO_MAC, files)
    port, eport = free_port(), free_port()
    script = ("xl_create /guest/notes.xl\nwait_http %s 80 120\n"
              "xl_create /guest/echo.xl\nhost_wait served\n"
              "show_console notes\nhost_wait done" % NOTES_IP)
    with XenRig().boot(files=files, script=script, name="apps_xen", timeout=900,
                       hostfwd=[(port, NOTES_IP, 80), (eport, ECHO_IP, 7)]) as s:
        s.expect(r"@@ host-wait served", 500)
        yield s, "http://127.0.0.1:%d" % port, eport
        s.release()


def host_curl(*args):
    return subprocess.run(["curl"] + list(args), capture_output=True, text=True, timeout=120)


def test_browser_adds_a_note_through_the_form(apps, tmp_path):
    import browser
    session, base, _ = apps
    st, _ = notes_checks.call(host_curl, base + "/", "--retry", "3")  # NAT path is up
    assert st == 200
    notes, before, after = browser.add_note_through_the_form(base + "/", "from the browser",
                                                             str(tmp_path))
    assert notes == ["from the browser"], notes
    assert browser.dark_text_rows(after) > browser.dark_text_rows(before) + 8
    sys.path.insert(0, os.path.join(ROOT, "configs"))
    import notes as notes_config
    want = notes_config.PAGE % '<li id="note-1">from the browser</li>'
    from PIL import Image
    ref = Image.open(browser.render(want, str(tmp_path))).convert("RGB")
    assert_like(Image.open(after).convert("RGB"), ref)


def test_notes_api_on_xen(apps, tmp_path):
    session, base, _ = apps
    notes_checks.check_all(host_curl, base, str(tmp_path))
    session.release()                        # the script shows the guest's console
    session.expect(r"@@ console notes end", 120)
    console = session.text[session.text.rfind("@@ console notes begin"):]
    assert "Traceback" in console and "TypeError" in console, console[-3000:]


def test_echo_on_xen(apps):
    import socket
    _, _, eport = apps
    msg = b"echo through netfront " * 200
    for attempt in range(3):
        try:
            s = socket.create_connection(("127.0.0.1", eport), timeout=20)
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                d = s.recv(65536)
                if not d:
                    break
                got += d
            s.close()
            break
        except OSError:
            if attempt == 2:
                raise
    assert got == msg
