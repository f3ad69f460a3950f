# curl fetches every file of the site, with the right bytes and Content-Type, from each
# store (crunch, FAT16, FAT32) on each Python (CPython, MicroPython), over one
# keep-alive connection.
import os
import subprocess
import urllib.parse


TYPES = {"html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8",
         "png": "image/png", "txt": "text/plain; charset=utf-8",
         "json": "application/json", "bin": "application/octet-stream"}


def test_curl_gets_every_file(server, files, tmp_path):
    names = sorted(files)
    args = ["curl", "-sS", "--max-time", "60"]
    outs = []
    for i, n in enumerate(names):
        out = str(tmp_path / ("f%d" % i))
        outs.append(out)
        args += ["-o", out, "-w", "%{http_code} %{num_connects} %{content_type}\\n",
                 server.url + urllib.parse.quote(n)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().split("\n")
    assert len(lines) == len(names)
    connects = 0
    for n, out, line in zip(names, outs, lines):
        code, nc, ctype = line.split(" ", 2)
        assert code == "200", (n, line)
        connects += int(nc)
        got = b""
        if os.path.exists(out):          # curl creates no file for an empty body
            with open(out, "rb") as f:
                got = f.read()
        assert got == files[n], n
        assert ctype == TYPES[n.rsplit(".", 1)[1]], (n, ctype)
    assert connects == 1, "keep-alive: %d connections for %d files" % (connects, len(names))


def test_directory_index_and_redirect(server, files):
    r = subprocess.run(["curl", "-sS", server.url + "docs/"], capture_output=True)
    assert r.stdout == files["docs/index.html"]
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w",
                        "%{http_code} %{redirect_url}", server.url + "docs"],
                       capture_output=True, text=True)
    assert r.stdout == "301 %sdocs/" % server.url
    r = subprocess.run(["curl", "-sSL", server.url + "docs"], capture_output=True)
    assert r.stdout == files["docs/index.html"]
    r = subprocess.run(["curl", "-sS", server.url], capture_output=True)
    assert r.stdout == files["index.html"]
