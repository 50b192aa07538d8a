"""Who may call: the service credential on every route but the public ones
(blueprint middleware: a route of a protected blueprint cannot forget it)."""
from __future__ import annotations

import hmac
from typing import Callable

from sanic import Blueprint
from sanic.blueprint_group import BlueprintGroup
from sanic.request import Request

from bot.backend.errors import unauthorized
from bot.core.service_auth import bearer_token
from bot.http.middleware import on_request


def service_credential(token: str) -> Callable[[Request], None]:
    """Request middleware: 401 unauthorized without `Authorization: Bearer <token>`."""
    if not token:  # an empty one would let every request without the header in
        raise ValueError("the backend needs a service token (BACKEND_SERVICE_TOKEN)")
    expected = token.encode("utf-8")

    def require_service(request: Request) -> None:
        given = bearer_token(request.headers).encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, expected):
            raise unauthorized()

    return require_service


def protected(token: str, *blueprints: Blueprint) -> BlueprintGroup:
    """The blueprints as one group whose every route needs the service credential."""
    group = Blueprint.group(*blueprints)
    on_request(group, service_credential(token))
    return group
