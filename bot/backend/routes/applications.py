"""GET /v1/applications: the verified holder's replacement applications (holder-scoped)."""
from __future__ import annotations

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.backend import service
from bot.backend.routes.context import Backend
from bot.backend.routes.holder import holder_listing


def blueprint(backend: Backend) -> Blueprint:
    bp = Blueprint("applications")

    @bp.get("/v1/applications")
    async def list_applications(request: Request) -> HTTPResponse:
        return await holder_listing(backend, request, service.list_applications)

    return bp
