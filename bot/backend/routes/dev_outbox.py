"""GET /dev/outbox?limit=: the latest SMS messages of the development gateway
(registered in development mode only)."""
from __future__ import annotations

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.backend import service, validation
from bot.backend.routes.context import Backend
from bot.backend.sms import latest_messages
from bot.http.json import json_response


def blueprint(backend: Backend) -> Blueprint:
    bp = Blueprint("dev_outbox")

    @bp.get("/dev/outbox")
    async def dev_outbox(request: Request) -> HTTPResponse:
        limit = validation.int_query(request.get_args(keep_blank_values=True), "limit", 20, 1, 100)

        def messages(session):
            return {
                "messages": [
                    {"id": m.id, "phone_masked": m.phone_masked, "text": m.text, "created_at": service.iso(m.created_at)}
                    for m in latest_messages(session, limit)
                ]
            }

        return json_response(await backend.work.read(messages))

    return bp
