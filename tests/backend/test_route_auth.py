"""Every route of the card backend but the public ones refuses a request
without the service token. The walk reads the app's router (not the OpenAPI
document, which test_api.py walks): a route added without the guard fails it."""
from __future__ import annotations

import httpx
import pytest
from sanic import Sanic

from bot.backend.api import create_app
from bot.backend.config import BackendConfig
from bot.backend.db import open_database
from tests.support.route_walk import add_unguarded_route, answers, error_code, routes
from tests.support.sanic_server import serving

TOKEN = "route-auth-test-service-token"
# Open to any caller, and why.
PUBLIC = {
    ("GET", "/health"): "the launcher's and the load balancer's health check: says only ok or not",
    ("GET", "/openapi.json"): "the API's contract: no data",
}


@pytest.fixture()
def app(tmp_path) -> Sanic:
    cfg = BackendConfig(host="127.0.0.1", port=0, db_url=f"sqlite:///{tmp_path / 'backend.db'}",
                        service_token=TOKEN, id_hash_key="route-auth-test-id-hash-key", mode="development",
                        max_body_bytes=16384)
    return create_app(cfg, open_database(cfg.db_url))


async def unguarded(app: Sanic) -> list:
    """The routes outside PUBLIC that do not answer 401 unauthorized without the
    token (or that answer so even with it: the route was not reached)."""
    walked = [route for route in routes(app) if route not in PUBLIC]
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        without = await answers(client, walked)
        wrong = await answers(client, walked, {"Authorization": "Bearer not-the-token"})
        with_token = await answers(client, walked, {"Authorization": f"Bearer {TOKEN}"})
        public = await answers(client, list(PUBLIC))
    assert all(response.status_code == 200 for response in public.values()), public
    refused = {route for route in walked
               if all(r[route].status_code == 401 and error_code(r[route]) == "unauthorized" for r in (without, wrong))
               and error_code(with_token[route]) != "unauthorized"}
    return sorted(set(walked) - refused)


async def test_every_route_but_the_public_ones_needs_the_service_token(app):
    walked = routes(app)
    assert set(PUBLIC) <= set(walked)
    assert len(walked) >= len(PUBLIC) + 10  # the walk sees every resource (verifications ... dev outbox)
    assert ("GET", "/dev/outbox") in walked
    assert await unguarded(app) == []


async def test_a_route_added_without_the_guard_is_found(app):
    add_unguarded_route(app, "/v1/forgotten")
    assert await unguarded(app) == [("GET", "/v1/forgotten")]

