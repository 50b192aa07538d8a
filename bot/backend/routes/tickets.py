"""Hand-over tickets: a citizen's request for a member of staff (the hand-over
itself, claim to close: routes/handoffs.py).

    POST /v1/handoff-tickets                      Idempotency-Key, X-Verification-Token?, {"summary", "mode"?, ...}
    GET  /v1/handoff-tickets?status=&limit=       the latest tickets
    POST /v1/handoff-tickets/{number}/close       Idempotency-Key, {"channel"?}
"""
from __future__ import annotations

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.backend import service, validation
from bot.backend.errors import DomainError, not_found
from bot.backend.openapi import TICKET_NUMBER_PATTERN
from bot.backend.routes.context import Backend
from bot.backend.routes.holder import verification_token
from bot.backend.routes.idempotency import fingerprint, idempotency_key, once, refusing
from bot.backend.sealing import seal
from bot.http.json import json_response
from bot.text import DEFAULT_LANGUAGE


def blueprint(backend: Backend) -> Blueprint:
    bp = Blueprint("tickets")
    cfg = backend.cfg

    @bp.post("/v1/handoff-tickets")
    async def open_ticket(request: Request) -> HTTPResponse:
        token = verification_token(request, required=False)
        key = idempotency_key(request)
        data = validation.body(request.body, "HandoffTicketRequest", required=True)
        summary = service.check_summary(data["summary"])

        def work(session):
            holder, verified_channel = None, "api"
            if token is not None:
                try:
                    holder, verified_channel = service.holder_for_token(session, token)
                except DomainError:
                    holder = None  # an expired token must not stop a citizen from reaching a person
            channel = data.get("channel", verified_channel)
            language = data.get("language", DEFAULT_LANGUAGE)
            refs = {name: service.hash_reference(cfg.id_hash_key, name, data.get(name))
                    for name in ("conversation", "client")}
            return service.idempotent(
                session, key, fingerprint(backend, request, data, holder.id if holder else None),
                lambda s: service.open_ticket(s, holder, summary, channel, language,
                                              conversation_ref=refs["conversation"], client_ref=refs["client"],
                                              mode=data.get("mode", "live"),
                                              conversation_sealed=seal(cfg.id_hash_key, data.get("conversation"))),
            )

        return await once(backend, work)

    @bp.get("/v1/handoff-tickets")
    async def list_tickets(request: Request) -> HTTPResponse:
        args = request.get_args(keep_blank_values=True)
        status = validation.enum_query(args, "status", ("open", "closed"))
        limit = validation.int_query(args, "limit", 50, 1, 200)
        return json_response(await backend.work.read(service.list_tickets, status, limit))

    @bp.post("/v1/handoff-tickets/<ticket_number:str>/close")
    async def close_ticket(request: Request, ticket_number: str) -> HTTPResponse:
        key = idempotency_key(request)
        data = validation.body(request.body, "CloseTicketRequest", required=False)
        channel = data.get("channel", "staff")
        if validation.matches(TICKET_NUMBER_PATTERN, ticket_number):
            def act(session):
                return service.close_ticket(session, ticket_number, channel)
        else:
            act = refusing(not_found("ticket_not_found", "handoff ticket"))
        request_fingerprint = fingerprint(backend, request, data, None)
        return await once(backend, lambda session: service.idempotent(session, key, request_fingerprint, act))

    return bp
