"""Identity verification: a code to the phone on file, then a verification token.

    POST /v1/verifications                      {"name", "id_number", "channel"?} -> 201
    POST /v1/verifications/{id}/confirm         {"code"} -> the verification token
"""
from __future__ import annotations

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.backend import service, validation
from bot.backend.errors import not_found
from bot.backend.openapi import VERIFICATION_ID_PATTERN
from bot.backend.routes.context import Backend
from bot.backend.routes.idempotency import fingerprint, idempotency_key, once
from bot.http.json import json_response


def blueprint(backend: Backend) -> Blueprint:
    bp = Blueprint("verifications")
    cfg = backend.cfg

    @bp.post("/v1/verifications")
    async def start_verification(request: Request) -> HTTPResponse:
        key = idempotency_key(request, required=False)  # optional: a retry then sends no second code
        data = validation.body(request.body, "VerificationStartRequest", required=True)

        def start(session):
            return service.start_verification(
                session, cfg.id_hash_key, backend.gateway, data["name"], data["id_number"], data.get("channel", "api"),
                codes_per_identity_hour=cfg.codes_per_identity_hour, codes_per_phone_day=cfg.codes_per_phone_day,
            )

        if key is None:
            return json_response(await backend.work.write(start), status=201)
        request_fingerprint = fingerprint(backend, request, data, None)
        return await once(backend, lambda session: service.idempotent(
            session, key, request_fingerprint, lambda s: (201, start(s))))

    @bp.post("/v1/verifications/<verification_id:str>/confirm")
    async def confirm_verification(request: Request, verification_id: str) -> HTTPResponse:
        data = validation.body(request.body, "VerificationConfirmRequest", required=True)
        if not validation.matches(VERIFICATION_ID_PATTERN, verification_id):
            raise not_found("verification_not_found", "verification")
        return json_response(await backend.work.write(
            service.confirm_verification, cfg.id_hash_key, verification_id, data["code"]))

    return bp
