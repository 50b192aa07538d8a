"""Retention (bot/backend/retention.py).

    POST /v1/retention/purge   {"older_than_days"} -> {"handoff_tickets": n deleted}
"""
from __future__ import annotations

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.backend import retention, validation
from bot.backend.routes.context import Backend
from bot.http.json import json_response


def blueprint(backend: Backend) -> Blueprint:
    bp = Blueprint("retention")

    @bp.post("/v1/retention/purge")
    async def purge(request: Request) -> HTTPResponse:
        data = validation.body(request.body, "RetentionPurgeRequest", required=True)
        return json_response(await backend.work.write(retention.purge, data["older_than_days"]))

    return bp
