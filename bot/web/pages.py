"""The HTML pages (templates/, plain HTML: every dynamic part is built by our
scripts from JSON) and the static files (static/: the widget's and the staff
page's scripts and styles). Nothing is loaded from any other origin."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sanic import Sanic
from sanic.response import HTTPResponse

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


@lru_cache(maxsize=None)
def _read(name: str) -> bytes:
    return (TEMPLATES / name).read_bytes()


def page(name: str) -> HTTPResponse:
    return HTTPResponse(_read(name), content_type="text/html; charset=utf-8")


def add_page_routes(app: Sanic) -> None:
    @app.get("/")
    async def demo_page(request) -> HTTPResponse:
        return page("index.html")

    app.static("/static", str(STATIC), name="static")
