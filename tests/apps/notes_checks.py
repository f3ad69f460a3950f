# What every target's `notes` must do, checked with curl as a user would. `curl(*args)`
# runs curl (on the host, in a namespace, ...) and returns the CompletedProcess; the
# checks add -sS, a timeout and -w for the status code.
import json
import os
import tempfile


def call(curl, url, *args):
    """(status, body bytes) of one curl request."""
    with tempfile.NamedTemporaryFile() as out:
        r = curl("-sS", "--max-time", "60", "-o", out.name, "-w", "%{http_code}",
                 *(list(args) + [url]))
        assert r.returncode == 0, (args, r.stderr)
        with open(out.name, "rb") as f:
            return int(r.stdout), f.read()


def post_json(curl, url, data, *extra):
    return call(curl, url, "-X", "POST", "-H", "Content-Type: application/json",
                "--data-binary", data, *extra)


def check_round_trip(curl, base):
    st, body = post_json(curl, base + "/api/notes", '{"text": "buy milk"}')
    assert st == 201, (st, body)
    a = json.loads(body)
    assert a["text"] == "buy milk" and isinstance(a["id"], int)
    st, body = post_json(curl, base + "/api/notes", '{"text": "caf\u00e9 <b>"}')
    assert st == 201, (st, body)
    b = json.loads(body)
    st, body = call(curl, base + "/api/notes")
    assert st == 200
    listed = json.loads(body)["notes"]
    assert a in listed and b in listed, listed
    st, body = call(curl, base + "/api/notes/%d" % b["id"])
    assert st == 200 and json.loads(body) == b
    st, body = call(curl, base + "/api/notes/%d" % a["id"], "-X", "DELETE")
    assert st == 204 and body == b""
    st, body = call(curl, base + "/api/notes/%d" % a["id"])
    assert st == 404, (st, body)
    st, body = call(curl, base + "/api/notes")
    assert a not in json.loads(body)["notes"] and b in json.loads(body)["notes"]
    st, page = call(curl, base + "/")
    assert st == 200 and b"<form" in page
    assert b"caf\xc3\xa9 &lt;b&gt;" in page           # the page escapes what it shows


def check_chunked_upload(curl, base, tmpdir):
    path = os.path.join(tmpdir, "note.json")
    text = "chunked " + "x" * 20000                   # several chunks
    with open(path, "w") as f:
        json.dump({"text": text}, f)
    st, body = call(curl, base + "/api/notes", "-X", "POST", "-H",
                    "Content-Type: application/json", "-H", "Transfer-Encoding: chunked",
                    "-H", "Expect:", "--data-binary", "@" + path)
    assert st == 201, (st, body[:200])
    nid = json.loads(body)["id"]
    st, body = call(curl, base + "/api/notes/%d" % nid)
    assert st == 200 and json.loads(body)["text"] == text


def check_limits_and_errors(curl, base, tmpdir):
    path = os.path.join(tmpdir, "big.json")
    with open(path, "w") as f:
        f.write('{"text": "%s"}' % ("y" * (2 << 20)))
    st, _ = call(curl, base + "/api/notes", "-X", "POST", "-H",
                 "Content-Type: application/json", "--data-binary", "@" + path)
    assert st == 413, st
    st, body = post_json(curl, base + "/api/notes", "[1, 2]")    # the handler raises
    assert st == 500, (st, body)
    st, body = call(curl, base + "/api/notes")                   # and the server goes on
    assert st == 200 and "notes" in json.loads(body)


def check_all(curl, base, tmpdir):
    check_round_trip(curl, base)
    check_chunked_upload(curl, base, tmpdir)
    check_limits_and_errors(curl, base, tmpdir)
