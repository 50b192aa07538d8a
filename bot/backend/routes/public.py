"""GET /health (the database answers) and GET /openapi.json: no credential."""
from __future__ import annotations

import logging
from typing import Any, Dict

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.backend.errors import DomainError
from bot.http.blocking import DatabaseWork
from bot.http.json import json_response

log = logging.getLogger("bot.backend.api")


def blueprint(work: DatabaseWork, spec: Dict[str, Any]) -> Blueprint:
    bp = Blueprint("public")

    @bp.get("/health")
    async def health(request: Request) -> HTTPResponse:
        try:
            await work.run(work.db.ping)
        except Exception as error:  # noqa: BLE001 - any failure means "not healthy"
            log.error("health check: database unavailable (%s)", type(error).__name__)
            raise DomainError(503, "database_unavailable", "The database is not available.") from None
        return json_response({"status": "ok"})

    @bp.get("/openapi.json")
    async def openapi(request: Request) -> HTTPResponse:
        return json_response(spec)

    return bp
