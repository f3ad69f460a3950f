# notes: a small notes service written with microdot (from PyPI, unmodified) on asyncio:
# an HTML page with a form at /, and a JSON API:
#   GET/POST /api/notes        list / create ({"text": "..."}; chunked uploads too)
#   GET/DELETE /api/notes/<id>
# Notes are kept on a littlefs volume (c.storage: build/notes/data.img, a rw disk on
# Xen), one JSON file per note (notes/<id>.json through the volume's kv face), so they
# survive a restart, a kill -9 or `xl destroy`: a note is on disk before its 201.
# The same file runs on every target:
#   morgana configure configs/notes.py --target unix-socket PORT=8080
#   morgana build && morgana run                 # then open http://127.0.0.1:8080/


def config(c):
    c.option("PORT", 80, "HTTP port")
    c.option("MAX_BODY", 65536, "largest request body accepted (413 beyond)")
    c.network()
    c.storage("data", size_mib=c.option("DATA_MIB", 2, "size of the notes volume (MiB)"))
    c.package("microdot==2.*")


PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Notes</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}
li{margin:.3em 0;overflow-wrap:anywhere}</style></head>
<body><h1>Notes</h1>
<form method="post" action="/"><input name="text" id="text" autofocus>
<button type="submit" id="add">Add</button></form>
<ul id="notes">%s</ul></body></html>
"""


def escape(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


async def read_chunked(stream, limit):
    """The body of a chunked request (microdot reads Content-Length bodies only and
    leaves this one in the stream)."""
    from morgana.http.parse import parse_chunk_size
    body = b""
    while True:
        size = parse_chunk_size((await stream.readline()).rstrip(b"\r\n"))
        if size == 0:
            while (await stream.readline()).strip():     # trailer lines, if any
                pass
            return body
        if len(body) + size > limit:
            raise ValueError("body over %d bytes" % limit)
        body += await stream.readexactly(size)
        await stream.readexactly(2)                      # the CRLF after each chunk


async def load_notes(kv):
    """{id: note} of the notes saved in kv (notes/<id>.json), in id order."""
    import json
    notes = {}
    ids = []
    for name in await kv.list("notes/"):
        base = name[len("notes/"):]
        if base.endswith(".json") and base[:-5].isdigit():
            ids.append(int(base[:-5]))
    for nid in sorted(ids):
        notes[nid] = json.loads(await kv.get("notes/%d.json" % nid))
    return notes


def make_app(notes, max_body, kv=None):
    """notes: {id: note} held in memory; kv (optional): where each note is also saved."""
    import json
    from microdot import Microdot, Request, Response, redirect
    Request.max_content_length = max_body
    Request.max_body_length = max_body
    app = Microdot()
    state = {"next": max(notes) + 1 if notes else 1}

    async def add(text):
        note = {"id": state["next"], "text": text}
        state["next"] += 1
        if kv is not None:          # durable before the answer
            await kv.put("notes/%d.json" % note["id"], json.dumps(note).encode())
        notes[note["id"]] = note
        return note

    @app.get("/")
    async def page(req):
        items = "".join('<li id="note-%d">%s</li>' % (n["id"], escape(n["text"]))
                        for n in notes.values())
        return PAGE % items, 200, {"Content-Type": "text/html; charset=utf-8"}

    @app.post("/")
    async def page_add(req):
        text = (req.form or {}).get("text", "").strip()
        if text:
            await add(text)
        return redirect("/", 303)

    @app.get("/api/notes")
    async def list_notes(req):
        return {"notes": sorted(notes.values(), key=lambda n: n["id"])}

    @app.post("/api/notes")
    async def create(req):
        if "chunked" in req.headers.get("Transfer-Encoding", "").lower():
            try:
                data = json.loads(await read_chunked(req.stream, max_body))
            except ValueError:
                return {"error": "body too large or not JSON"}, 413
        else:
            data = req.json
        if data is None:
            return {"error": "JSON body expected"}, 400
        return await add(str(data["text"])), 201      # a body without "text" raises: 500

    @app.get("/api/notes/<int:nid>")
    async def get_note(req, nid):
        if nid not in notes:
            return {"error": "no note %d" % nid}, 404
        return notes[nid]

    @app.delete("/api/notes/<int:nid>")
    async def delete_note(req, nid):
        if nid not in notes:
            return {"error": "no note %d" % nid}, 404
        if kv is not None:
            await kv.delete("notes/%d.json" % nid)
        del notes[nid]
        return Response(status_code=204)

    return app


async def main(env):
    kv = env.stores["data"]
    notes = await load_notes(kv)
    app = make_app(notes, env.get("MAX_BODY"), kv)
    env.log.info("notes: %d notes on disk; serving on port %d", len(notes), env.get("PORT"))
    await app.start_server(port=env.get("PORT"))
