"""The static files (CSS, JS, icons) under `static/`, served by `GET /static/{path+}`.

A file is found by exact name in an index built from the directory, never by joining the requested path
onto a directory, so `..`, absolute paths or encoded tricks cannot reach anything else. Pages link every
file with its content hash (`/static/app.css?v=<hash>`): that URL changes whenever the file does, so it
may be cached for a year; a request without the current hash is answered with `no-cache`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from postmask_web.http import Event, Result, error, response, web_handler

STATIC_DIR = Path(__file__).resolve().parent / "static"
LONG_LIVED = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

# Only these kinds are served; anything else in the directory stays private.
CONTENT_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
_TEXT_SUFFIXES = (".css", ".js", ".svg")


@dataclass(frozen=True)
class Asset:
    name: str  # path under static/, with forward slashes
    body: bytes
    content_type: str
    version: str  # the start of the body's sha-256

    @property
    def url(self) -> str:
        return f"/static/{self.name}?v={self.version}"


@cache
def assets() -> dict[str, Asset]:
    """Every servable file by name, read once per container (they are a few kilobytes)."""
    found = {}
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file() and path.suffix in CONTENT_TYPES:
            body = path.read_bytes()
            name = path.relative_to(STATIC_DIR).as_posix()
            found[name] = Asset(name, body, CONTENT_TYPES[path.suffix], hashlib.sha256(body).hexdigest()[:16])
    return found


def url_for(name: str) -> str:
    """The versioned URL of a static file; an unknown name fails the page's rendering (and its tests)."""
    try:
        return assets()[name].url
    except KeyError:
        raise LookupError(f"no static file {name!r} in {STATIC_DIR}") from None


def _serve(event: Event, context: Any) -> Result:
    name = (event.get("pathParameters") or {}).get("path", "")
    asset = assets().get(name)
    if asset is None:
        return error(404, "Not found")
    current = (event.get("queryStringParameters") or {}).get("v") == asset.version
    body: bytes | str = asset.body.decode("utf-8") if asset.name.endswith(_TEXT_SUFFIXES) else asset.body
    return response(200, body, asset.content_type, LONG_LIVED if current else REVALIDATE)


serve = web_handler(_serve)
