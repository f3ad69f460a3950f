# The notes app of configs/notes.py on CPython's own asyncio and the host's TCP/IP: the
# baseline bench/app_bench.py puts next to the unikernel (and a quick way to try the app).
#   python bench/notes_cpython.py MICRODOT_DIR PORT [NOTES]
# MICRODOT_DIR: where microdot's package directory is (build/NAME/site after configure).
import asyncio
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def load_notes():
    import importlib.util
    spec = importlib.util.spec_from_file_location("notes_app",
                                                  os.path.join(ROOT, "configs", "notes.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    site, port = sys.argv[1], int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    sys.path[:0] = [site, os.path.join(ROOT, "pylib")]
    notes = {}
    app = load_notes().make_app(notes, 65536)
    for i in range(count):
        notes[i + 1] = {"id": i + 1, "text": "note number %d" % (i + 1)}
    print("READY", flush=True)
    asyncio.run(app.start_server(host="0.0.0.0", port=port))


if __name__ == "__main__":
    main()
