# HTTP/1.1 for unikernels: the application API (App, Request, Response, abort), the
# connection engine (server), static files from a kv store (files) and pure parsing.
from morgana.http.app import App, Request, Response, abort, make_response  # noqa: F401
from morgana.http.parse import HttpError  # noqa: F401
