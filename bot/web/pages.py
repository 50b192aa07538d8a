"""The HTML pages (templates/, plain HTML: every dynamic part is built by our
scripts from JSON) and the static files (static/: the widget's and the staff
page's scripts and styles). Nothing is loaded from any other origin.

The static files are read once at start and served by name from that fixed
set (sanic 21.12's own static handler answers 500 for the directory itself),
with an ETag so that browsers revalidate cheaply.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Dict, Tuple

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.web.http import WebError

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


@lru_cache(maxsize=None)
def _read(name: str) -> bytes:
    return (TEMPLATES / name).read_bytes()


def page(name: str) -> HTTPResponse:
    return HTTPResponse(_read(name), content_type="text/html; charset=utf-8")


def static_files() -> Dict[str, Tuple[bytes, str, str]]:
    """name -> (content, content type, ETag) of every file in static/."""
    files = {}
    for path in sorted(STATIC.iterdir()):
        if path.is_file() and path.suffix in CONTENT_TYPES:
            content = path.read_bytes()
            files[path.name] = (content, CONTENT_TYPES[path.suffix], '"%s"' % hashlib.sha256(content).hexdigest()[:32])
    return files


def add_page_routes(app: Sanic) -> None:
    files = static_files()

    @app.get("/")
    async def demo_page(request: Request) -> HTTPResponse:
        return page("index.html")

    @app.get("/static/<name:str>")
    async def static(request: Request, name: str) -> HTTPResponse:
        if name not in files:
            raise WebError(404, "not_found", "No such page.")
        content, content_type, etag = files[name]
        headers = {"ETag": etag, "Cache-Control": "no-cache"}  # revalidate: a new release shows at once
        if request.headers.get("if-none-match") == etag:
            return HTTPResponse(status=304, headers=headers)
        return HTTPResponse(content, content_type=content_type, headers=headers)
