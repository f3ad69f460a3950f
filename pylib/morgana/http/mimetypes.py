# Content types for static files, by file extension (lower case, without the dot).
# A small fixed table: the unikernel has no /etc/mime.types. Text types carry a charset
# so browsers don't guess.

_TYPES = {
    "html": "text/html; charset=utf-8",
    "htm": "text/html; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "mjs": "text/javascript; charset=utf-8",
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xml": "application/xml",
    "svg": "image/svg+xml",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "ico": "image/vnd.microsoft.icon",
    "bmp": "image/bmp",
    "woff": "font/woff",
    "woff2": "font/woff2",
    "ttf": "font/ttf",
    "otf": "font/otf",
    "pdf": "application/pdf",
    "wasm": "application/wasm",
    "zip": "application/zip",
    "gz": "application/gzip",
    "tar": "application/x-tar",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "wav": "audio/wav",
    "mp4": "video/mp4",
    "webm": "video/webm",
}

DEFAULT = "application/octet-stream"


def guess(name):
    """Content type for a file name or path ('css/site.css' -> 'text/css; ...')."""
    slash = name.rfind("/")
    dot = name.rfind(".")
    if dot <= slash + 1:          # no extension, or a dotfile like '.htaccess'
        return DEFAULT
    return _TYPES.get(name[dot + 1:].lower(), DEFAULT)
