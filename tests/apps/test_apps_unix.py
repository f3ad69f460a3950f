# The example services through the real tool on the unix targets: `notes` (microdot from
# PyPI on our asyncio) and `echo` (the stack API), each configured, built and run with
# `morgana` on MicroPython's Unix port: over host sockets (unix-socket) and over our own
# TCP/IP stack on a TAP device in a network namespace (unix-tap), checked with curl and
# plain sockets as a user would.
import json
import os
import socket
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [HERE, os.path.join(TOP, "tests", "tap"), os.path.join(TOP, "tests", "www")]
import netns  # noqa: E402
import notes_checks  # noqa: E402
import www_rig  # noqa: E402

MORGANA = os.path.join(os.path.dirname(sys.executable), "morgana")
TAP_WHY = netns.can_run()


def morgana(bdir, *args):
    r = subprocess.run([MORGANA, "-B", bdir] + list(args), capture_output=True, text=True,
                       cwd=TOP, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


class Unikernel:
    """`morgana run` of a built unikernel, on the host or inside a namespace."""

    def __init__(self, bdir, ns=None):
        self.log = open(os.path.join(bdir, "run.log"), "w+")
        cmd = [MORGANA, "-B", bdir, "run"]
        if ns is not None:
            self.proc = ns.popen(cmd, cwd=TOP, stdout=self.log, stderr=subprocess.STDOUT)
        else:
            self.proc = subprocess.Popen(cmd, cwd=TOP, stdout=self.log,
                                         stderr=subprocess.STDOUT)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        www_rig.stop_process(self.proc)
        return self.output()


def host_curl(*args):
    return subprocess.run(["curl"] + list(args), capture_output=True, text=True, timeout=90)


def ns_curl(ns):
    def curl(*args):
        return subprocess.run(["ip", "netns", "exec", ns.name, "curl"] + list(args),
                              capture_output=True, text=True, timeout=90)
    return curl


def wait_http(curl, url, run, seconds=60):
    end = time.time() + seconds
    while time.time() < end:
        if curl("-s", "-o", "/dev/null", "--max-time", "1", url).returncode == 0:
            return
        if run.proc.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError("no answer from %s:\n%s" % (url, run.stop()[-3000:]))


@pytest.fixture(scope="module")
def notes_socket(tmp_path_factory):
    bdir = str(tmp_path_factory.mktemp("notes-socket"))
    port = www_rig.free_port()
    morgana(bdir, "configure", "configs/notes.py", "--target", "unix-socket",
            "PORT=%d" % port, "IP=127.0.0.1")
    morgana(bdir, "build")
    run = Unikernel(bdir)
    base = "http://127.0.0.1:%d" % port
    wait_http(host_curl, base + "/", run)
    yield base, run
    run.stop()


@pytest.fixture(scope="module")
def notes_tap(tmp_path_factory):
    if TAP_WHY:
        pytest.skip(TAP_WHY)
    bdir = str(tmp_path_factory.mktemp("notes-tap"))
    morgana(bdir, "configure", "configs/notes.py", "--target", "unix-tap", "PORT=80",
            "IP=" + netns.STACK_IP, "TAP=tap0")
    morgana(bdir, "build")
    ns = netns.Netns("notes")
    run = Unikernel(bdir, ns)
    base = "http://%s" % netns.STACK_IP
    wait_http(ns_curl(ns), base + "/", run)
    yield base, run, ns
    run.stop()
    ns.close()


def test_notes_unix_socket(notes_socket, tmp_path):
    base, run = notes_socket
    notes_checks.check_all(host_curl, base, str(tmp_path))
    out = run.output()
    assert "Traceback" in out          # the raising handler's traceback was logged
    assert run.proc.poll() is None     # ... and the unikernel still runs


def test_notes_unix_tap(notes_tap, tmp_path):
    base, run, ns = notes_tap
    notes_checks.check_all(ns_curl(ns), base, str(tmp_path))
    assert "Traceback" in run.output() and run.proc.poll() is None


def test_notes_survive_kill_9_and_rebuild(tmp_path):
    # the notes are on the storage volume (build/notes/data.img): kill -9 the unikernel,
    # `morgana build` again (keeps the image), run it: every acknowledged note is back
    bdir = str(tmp_path / "b")
    port = www_rig.free_port()
    morgana(bdir, "configure", "configs/notes.py", "--target", "unix-socket",
            "PORT=%d" % port, "IP=127.0.0.1")
    out = morgana(bdir, "build")
    assert "formatted" in out, out
    base = "http://127.0.0.1:%d" % port
    run = Unikernel(bdir)
    wait_http(host_curl, base + "/", run)
    made = []
    for i in range(5):
        st, body = notes_checks.post_json(host_curl, base + "/api/notes",
                                          json.dumps({"text": "note %d" % i}))
        assert st == 201, (st, body)
        made.append(json.loads(body))
    st, _ = notes_checks.call(host_curl, base + "/api/notes/%d" % made[1]["id"],
                              "-X", "DELETE")
    assert st == 204
    run.proc.kill()                      # SIGKILL: no chance to flush anything
    run.proc.wait()
    out = morgana(bdir, "build")
    assert "kept" in out and "formatted" not in out, out
    run = Unikernel(bdir)
    try:
        wait_http(host_curl, base + "/", run)
        st, body = notes_checks.call(host_curl, base + "/api/notes")
        assert st == 200
        assert json.loads(body)["notes"] == [made[0]] + made[2:], body
        st, body = notes_checks.post_json(host_curl, base + "/api/notes", '{"text": "n"}')
        assert st == 201 and json.loads(body)["id"] == made[-1]["id"] + 1, body
        assert "4 notes on disk" in run.output()
    finally:
        run.stop()


def test_notes_records_the_package(notes_socket):
    import json
    base, run = notes_socket
    bdir = os.path.dirname(run.log.name)
    with open(os.path.join(bdir, "notes", "packages.json")) as f:
        pk = json.load(f)
    text = json.dumps(pk)
    assert "microdot" in text and "sha256" in text, pk


def echo_round_trip(ip, port, make_socket=socket.socket):
    s = make_socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect((ip, port))
    msg = bytes(range(256)) * 64                  # 16 KiB: several segments
    s.sendall(msg)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
    s.close()
    assert got == msg
    u = make_socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(2)
    for i in range(5):
        u.sendto(b"ping %d" % i, (ip, port))
        try:
            data, _ = u.recvfrom(2048)
        except socket.timeout:
            continue
        assert data == b"ping %d" % i
        break
    else:
        raise AssertionError("no UDP echo")
    u.close()


def test_echo_unix_socket(tmp_path):
    bdir = str(tmp_path)
    port = www_rig.free_port()
    morgana(bdir, "configure", "configs/echo.py", "--target", "unix-socket",
            "PORT=%d" % port, "IP=127.0.0.1")
    morgana(bdir, "build")
    run = Unikernel(bdir)
    try:
        www_rig.wait_port(port, 30)
        echo_round_trip("127.0.0.1", port)
    finally:
        out = run.stop()
    assert "echo: TCP and UDP on port %d" % port in out


@pytest.mark.skipif(TAP_WHY is not None, reason=TAP_WHY or "")
def test_echo_unix_tap(tmp_path):
    bdir = str(tmp_path)
    morgana(bdir, "configure", "configs/echo.py", "--target", "unix-tap", "PORT=7",
            "IP=" + netns.STACK_IP, "TAP=tap0")
    morgana(bdir, "build")
    ns = netns.Netns("echo")
    run = Unikernel(bdir, ns)
    try:
        code = ("import sys; sys.path.insert(0, %r); import test_apps_unix as t; "
                "t.echo_round_trip(%r, 7); print('OK')" % (HERE, netns.STACK_IP))
        for _ in range(50):
            r = ns.run(sys.executable, "-c", code, check=False, timeout=60)
            if r.returncode == 0:
                break
            time.sleep(0.3)
        assert r.stdout.strip().endswith("OK"), r.stdout + r.stderr + run.output()
    finally:
        run.stop()
        ns.close()


def test_readme_service_example(tmp_path):
    # the README's "Writing your own service" example, as a user would copy it
    with open(os.path.join(TOP, "README.md")) as f:
        readme = f.read()
    start = readme.index("# configs/hits.py")
    code = readme[start:readme.index("```", start)]
    proj = tmp_path / "proj"
    (proj / "configs").mkdir(parents=True)
    (proj / "htdocs").mkdir()
    (proj / "htdocs" / "index.html").write_text("<p>hits</p>")
    (proj / "configs" / "hits.py").write_text(code)
    bdir = str(tmp_path / "build")
    port = www_rig.free_port()
    morgana(bdir, "configure", str(proj / "configs" / "hits.py"), "--target",
            "unix-socket", "PORT=%d" % port, "IP=127.0.0.1")
    morgana(bdir, "build")
    run = Unikernel(bdir)
    base = "http://127.0.0.1:%d" % port
    try:
        wait_http(host_curl, base + "/", run)
        st, body = notes_checks.post_json(host_curl, base + "/api/hits/a", '{"by": 2}')
        assert st == 200 and json.loads(body) == {"name": "a", "hits": 2}
        notes_checks.post_json(host_curl, base + "/api/hits/a", '{}')
        assert json.loads(notes_checks.call(host_curl, base + "/api/hits/a")[1])["hits"] == 3
        assert notes_checks.call(host_curl, base + "/api/hits/a", "-X", "DELETE")[0] == 204
        assert notes_checks.call(host_curl, base + "/api/hits/a", "-X", "DELETE")[0] == 404
        assert notes_checks.call(host_curl, base + "/") == (200, b"<p>hits</p>")
    finally:
        run.stop()
