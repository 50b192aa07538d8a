"""Every route of the web process refuses a request without its credential
(a staff login, or a chat session id), but the public ones, each listed with
the reason it is public. The walk reads the app's router: a route added
without a guard fails it."""
from __future__ import annotations

import httpx
import pytest
from sanic import Sanic

from bot.web.app import create_app
from bot.web.config import load_config
from bot.web.staff.store import open_store
from tests.support.route_walk import add_unguarded_route, answers, error_code, routes
from tests.support.sanic_server import serving

# Open to anyone, and why.
PUBLIC = {
    ("GET", "/"): "the chat widget's demo page",
    ("GET", "/static/<name:str>"): "the scripts and styles of the widget and the pages",
    ("GET", "/health"): "the launcher's health check: says only ok",
    ("POST", "/api/chat/sessions"): "starts a citizen's chat: issues the session id the other chat calls need",
    ("GET", "/staff/login"): "the staff login page",
    ("POST", "/api/staff/login"): "the staff login itself (throttled, same-origin only)",
}
# How each credential's absence is answered: the staff API, the staff page, the chat API.
REFUSALS = {(401, "login_required"), (303, "/staff/login"), (403, "invalid_session")}


@pytest.fixture()
def app(tmp_path) -> Sanic:
    cfg = load_config({"STAFF_DB_URL": f"sqlite:///{tmp_path / 'staff.db'}", "WEB_SECRET_KEY": "route-auth-test-key",
                       "RASA_URL": "http://127.0.0.1:9", "BACKEND_URL": "http://127.0.0.1:9"})
    return create_app(cfg, open_store(cfg.staff_db_url), name="web_route_auth")


def refused(response: httpx.Response) -> bool:
    detail = response.headers.get("location") if response.status_code == 303 else error_code(response)
    return (response.status_code, detail) in REFUSALS


async def unguarded(app: Sanic) -> list:
    """The routes outside PUBLIC that answer a request without any credential."""
    walked = [route for route in routes(app) if route not in PUBLIC]
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        without = await answers(client, walked)
    return sorted(route for route in walked if not refused(without[route]))


async def test_every_route_but_the_public_ones_needs_a_login_or_a_chat_session(app):
    walked = routes(app)
    assert set(PUBLIC) <= set(walked)
    for route in [("GET", "/staff"), ("POST", "/api/staff/logout"), ("GET", "/api/staff/me"),
                  ("POST", "/api/faq/search"), ("GET", "/api/staff/tickets"), ("POST", "/api/chat/messages"),
                  ("GET", "/api/chat/history"), ("DELETE", "/api/chat/sessions")]:
        assert route in walked  # the walk sees each resource
    assert await unguarded(app) == []


async def test_a_route_added_without_a_guard_is_found(app):
    add_unguarded_route(app, "/api/staff/forgotten")
    assert await unguarded(app) == [("GET", "/api/staff/forgotten")]
