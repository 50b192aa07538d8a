"""Walking the routes of one of our sanic apps, served in the test's event loop
on a real server: what each route answers to a request without a credential
(tests/backend/test_route_auth.py, tests/web/test_route_auth.py; the app
runs with tests.support.sanic_server.serving).

The walk reads the app's router, not a list kept by hand: a route added
later is walked too.
"""
from __future__ import annotations

import re
from typing import Dict, List, Mapping, Optional, Tuple

import httpx
from sanic import Blueprint, Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.http.json import json_response

Route = Tuple[str, str]  # (method, the route's URI as registered, e.g. /v1/cards/<card_id:str>/activate)
_PARAMETER = re.compile(r"<[^>]+>")


def routes(app: Sanic) -> List[Route]:
    return sorted((method, route.uri) for route in app.router.routes for method in route.methods)


def example_path(uri: str) -> str:
    """The URI with each parameter filled in (a value no route takes as real; a
    number for an int parameter, which the router would otherwise answer 404)."""
    return _PARAMETER.sub(lambda m: "987654321" if m.group(0).endswith(":int>") else "x1", uri)


async def answers(client: httpx.AsyncClient, walked: List[Route],
                  headers: Optional[Mapping[str, str]] = None) -> Dict[Route, httpx.Response]:
    """What each route answers to a request with `headers` (and an empty JSON object as body)."""
    return {(method, uri): await client.request(method, example_path(uri), headers=headers, json={})
            for method, uri in walked}


def error_code(response: httpx.Response) -> Optional[str]:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def add_unguarded_route(app: Sanic, uri: str) -> None:
    """A GET route on a blueprint of its own, with no guard: what a new route
    that forgets one looks like (the walk must find it)."""
    forgotten = Blueprint("forgotten")

    @forgotten.get(uri)
    async def handler(request: Request) -> HTTPResponse:
        return json_response({"open": True})

    app.blueprint(forgotten)
