"""The verified holder's cards (holder-scoped).

    GET  /v1/cards                                   the holder's cards
    POST /v1/cards/{card_id}/activate     Idempotency-Key, {"channel"?}
    POST /v1/cards/{card_id}/loss-report  Idempotency-Key, {"channel"?}
"""
from __future__ import annotations

from typing import Callable

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.backend import service, validation
from bot.backend.errors import not_found
from bot.backend.openapi import CARD_ID_PATTERN
from bot.backend.routes.context import Backend
from bot.backend.routes.holder import holder_listing, verification_token
from bot.backend.routes.idempotency import fingerprint, idempotency_key, once, refusing


def blueprint(backend: Backend) -> Blueprint:
    bp = Blueprint("cards")

    @bp.get("/v1/cards")
    async def list_cards(request: Request) -> HTTPResponse:
        return await holder_listing(backend, request, service.list_cards)

    def card_mutation(action: Callable, schema: str) -> Callable:
        async def handler(request: Request, card_id: str) -> HTTPResponse:
            token = verification_token(request)
            key = idempotency_key(request)
            data = validation.body(request.body, schema, required=False)

            def work(session):
                holder, verified_channel = service.holder_for_token(session, token)
                channel = data.get("channel", verified_channel)
                if validation.matches(CARD_ID_PATTERN, card_id):
                    def act(s):
                        return action(s, holder, card_id, channel)
                else:
                    act = refusing(not_found("card_not_found", "card among this holder's cards"))
                return service.idempotent(session, key, fingerprint(backend, request, data, holder.id), act)

            return await once(backend, work)

        return handler

    bp.add_route(card_mutation(service.activate_card, "ActivateRequest"),
                 "/v1/cards/<card_id:str>/activate", methods=["POST"], name="activate_card")
    bp.add_route(card_mutation(service.report_loss, "LossReportRequest"),
                 "/v1/cards/<card_id:str>/loss-report", methods=["POST"], name="report_loss")
    return bp
