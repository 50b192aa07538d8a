"""The HTTP API (sanic): routes, authentication, JSON errors, body limit.

Every route but /health and /openapi.json needs the service token
(`Authorization: Bearer ...`); holder-scoped routes also need the
verification token (`X-Verification-Token`). Bad input of any kind gets a
4xx with `{"error": {"code", "message"}}`; the error handler turns anything
unexpected into a logged 500 without echoing the request. Blocking database
work runs in threads (`loop.run_in_executor`); sanic cancels a handler whose
client disconnects, but the thread's transaction still finishes as a whole.
"""
from __future__ import annotations

import asyncio
import functools
import hmac
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Optional

from sanic import Sanic
from sanic.exceptions import InvalidUsage, SanicException
from sanic.handlers import ErrorHandler
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import InterfaceError, OperationalError

from bot.backend import service, validation
from bot.backend.config import BackendConfig
from bot.backend.db import Database
from bot.backend.errors import DomainError, not_found, unauthorized, verification_required
from bot.backend.openapi import (
    CARD_ID_PATTERN,
    IDEMPOTENCY_KEY_PATTERN,
    TICKET_NUMBER_PATTERN,
    VERIFICATION_ID_PATTERN,
    VERIFICATION_TOKEN_PATTERN,
    document,
)
from bot.backend.sms import gateway_for, latest_messages
from bot.pii import redact

log = logging.getLogger("bot.backend.api")
access_log = logging.getLogger("bot.backend.access")

_SANIC_CODES = {
    400: ("bad_request", "The request could not be understood."),
    404: ("not_found", "No such route."),
    405: ("method_not_allowed", "This method is not allowed on this route."),
    408: ("request_timeout", "The request took too long to arrive."),
    413: ("payload_too_large", "The request is too large."),
    503: ("service_unavailable", "The service is not available; try again later."),
}


class CheckedRequest(Request):
    """Refuses a Content-Length that is not one plain non-negative number:
    sanic 21.12 trusts int() of it, and a negative length makes its body
    reader spin forever (one request would hang the server)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lengths = self.headers.getall("content-length", [])
        if len(lengths) > 1 or (lengths and not (lengths[0].isascii() and lengths[0].isdigit() and len(lengths[0]) <= 15)):
            raise InvalidUsage("Bad Request")


def _dumps(data: Any, **_: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def json_response(body: Dict[str, Any], status: int = 200, headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
    return HTTPResponse(_dumps(body), status=status, headers=headers, content_type="application/json")


def error_response(error: DomainError, headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
    headers = dict(headers or {})
    if error.status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return json_response(error.body(), status=error.status, headers=headers)


class JsonErrorHandler(ErrorHandler):
    """Every error as JSON; nothing from the request is echoed or logged in clear."""

    def __init__(self, max_body_bytes: int) -> None:
        super().__init__()
        self.max_body_bytes = max_body_bytes

    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        if isinstance(exception, DomainError):
            return error_response(exception)
        if isinstance(exception, SanicException):
            status = getattr(exception, "status_code", 500) or 500
            code, message = _SANIC_CODES.get(status, ("bad_request" if status < 500 else "internal_error",
                                                      "The request could not be handled."))
            if status == 413:
                message = f"The request body is larger than {self.max_body_bytes} bytes."
            headers = {k: v for k, v in (getattr(exception, "headers", None) or {}).items() if k.lower() == "allow"}
            return error_response(DomainError(status, code, message), headers)
        if isinstance(exception, (OperationalError, InterfaceError)):  # unreachable, locked, gone
            log.error("database error: %s", type(exception).__name__)
            return error_response(DomainError(503, "database_unavailable", "The database is not available; try again later."))
        if getattr(request, "route", None) is None:
            # Raised by sanic while reading the request (e.g. a Content-Length
            # that is not a number), before any route: the request is malformed.
            return error_response(DomainError(400, "bad_request", "The request could not be understood."))
        log.error("unexpected %s: %s", type(exception).__name__, redact(str(exception), codes=True)[:300])
        return error_response(DomainError(500, "internal_error", "Something went wrong on our side."))


def create_app(cfg: BackendConfig, db: Database) -> Sanic:
    if not cfg.service_token:
        raise ValueError("the backend needs a service token (BACKEND_SERVICE_TOKEN)")
    app = Sanic("card_backend", configure_logging=False, dumps=_dumps, request_class=CheckedRequest)
    app.config.REQUEST_MAX_SIZE = cfg.max_body_bytes
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.REQUEST_TIMEOUT = 30
    app.config.RESPONSE_TIMEOUT = 60
    app.error_handler = JsonErrorHandler(cfg.max_body_bytes)
    gateway = gateway_for(cfg.mode)
    spec = document(cfg.development)
    executor = ThreadPoolExecutor(max_workers=32, thread_name_prefix="backend-db")

    # --- plumbing ------------------------------------------------------------------------------

    async def run(fn: Callable, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(executor, functools.partial(fn, *args))

    def transaction(work: Callable[[Any], Any]) -> Callable[[], Any]:
        """`work(session)` in a write transaction, committed also when it
        raises DomainError (what it wrote before refusing is kept)."""

        def call() -> Any:
            with db.write() as session:
                try:
                    result = work(session)
                except DomainError:
                    session.commit()
                    raise
                session.commit()
                return result

        return call

    def reading(work: Callable[[Any], Any]) -> Callable[[], Any]:
        def call() -> Any:
            with db.read() as session:
                return work(session)

        return call

    def require_service(request: Request) -> None:
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        given = token.strip().encode("utf-8", "surrogateescape")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given, cfg.service_token.encode()):
            raise unauthorized()

    def verification_token(request: Request, required: bool = True) -> Optional[str]:
        token = request.headers.get("x-verification-token")
        if token is None and not required:
            return None
        if not validation.matches(VERIFICATION_TOKEN_PATTERN, token):
            if not required:
                return None
            raise verification_required()
        return token

    def idempotency_key(request: Request, required: bool = True) -> Optional[str]:
        key = request.headers.get("idempotency-key")
        if key is None:
            if not required:
                return None
            raise DomainError(400, "idempotency_key_required", "This request needs an Idempotency-Key header.")
        if not validation.matches(IDEMPOTENCY_KEY_PATTERN, key):
            raise DomainError(
                400, "invalid_idempotency_key", "An Idempotency-Key has 1 to 100 characters of A-Z a-z 0-9 _ . : -."
            )
        return key

    def fingerprint(request: Request, body: Dict[str, Any], subject: Any) -> str:
        return service.fingerprint(cfg.id_hash_key, request.method, request.path, subject, body)

    def reply(result) -> HTTPResponse:
        status, body, replayed = result
        return json_response(body, status=status, headers={"Idempotent-Replayed": "true"} if replayed else None)

    # --- middleware -----------------------------------------------------------------------------

    @app.on_request
    async def _started(request: Request) -> None:
        request.ctx.started = time.monotonic()

    @app.on_response
    async def _log(request: Request, response: HTTPResponse) -> None:
        started = getattr(request.ctx, "started", None)
        took = f"{(time.monotonic() - started) * 1000:.0f}ms" if started else "-"
        # The path may carry anything a client put there: ID and phone numbers masked.
        access_log.info("%s %s %s %s", request.method, redact(request.path)[:200], response.status, took)

    @app.listener("after_server_stop")
    async def _stop(app_, loop) -> None:
        executor.shutdown(wait=True)
        db.dispose()

    # --- public -------------------------------------------------------------------------------

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        try:
            await run(db.ping)
        except Exception as error:  # noqa: BLE001 - any failure means "not healthy"
            log.error("health check: database unavailable (%s)", type(error).__name__)
            raise DomainError(503, "database_unavailable", "The database is not available.") from None
        return json_response({"status": "ok"})

    @app.get("/openapi.json")
    async def openapi(request: Request) -> HTTPResponse:
        return json_response(spec)

    # --- identity verification ---------------------------------------------------------------

    @app.post("/v1/verifications")
    async def start_verification(request: Request) -> HTTPResponse:
        require_service(request)
        key = idempotency_key(request, required=False)
        data = validation.body(request.body, "VerificationStartRequest", required=True)
        channel = data.get("channel", "api")

        def start(session):
            return service.start_verification(
                session, cfg.id_hash_key, gateway, data["name"], data["id_number"], channel,
                codes_per_identity_hour=cfg.codes_per_identity_hour, codes_per_phone_day=cfg.codes_per_phone_day,
            )

        if key is None:
            return json_response(await run(transaction(start)), status=201)

        def keyed(session):
            return service.idempotent(session, key, fingerprint(request, data, None), lambda s: (201, start(s)))

        return reply(await run(transaction(keyed)))

    @app.post("/v1/verifications/<verification_id:str>/confirm")
    async def confirm_verification(request: Request, verification_id: str) -> HTTPResponse:
        require_service(request)
        data = validation.body(request.body, "VerificationConfirmRequest", required=True)
        if not validation.matches(VERIFICATION_ID_PATTERN, verification_id):
            raise not_found("verification_not_found", "verification")

        def confirm(session):
            return service.confirm_verification(session, cfg.id_hash_key, verification_id, data["code"])

        return json_response(await run(transaction(confirm)))

    # --- holder-scoped ------------------------------------------------------------------------

    @app.get("/v1/cards")
    async def list_cards(request: Request) -> HTTPResponse:
        require_service(request)
        token = verification_token(request)

        def cards(session):
            holder, _ = service.holder_for_token(session, token)
            return service.list_cards(session, holder)

        return json_response(await run(reading(cards)))

    def card_mutation(action: Callable, schema: str):
        async def handler(request: Request, card_id: str) -> HTTPResponse:
            require_service(request)
            token = verification_token(request)
            key = idempotency_key(request)
            data = validation.body(request.body, schema, required=False)

            def work(session):
                holder, verified_channel = service.holder_for_token(session, token)
                channel = data.get("channel", verified_channel)
                if not validation.matches(CARD_ID_PATTERN, card_id):
                    def act(s):
                        raise not_found("card_not_found", "card among this holder's cards")
                else:
                    def act(s):
                        return action(s, holder, card_id, channel)
                return service.idempotent(session, key, fingerprint(request, data, holder.id), act)

            return reply(await run(transaction(work)))

        return handler

    app.add_route(card_mutation(service.activate_card, "ActivateRequest"),
                  "/v1/cards/<card_id:str>/activate", methods=["POST"], name="activate_card")
    app.add_route(card_mutation(service.report_loss, "LossReportRequest"),
                  "/v1/cards/<card_id:str>/loss-report", methods=["POST"], name="report_loss")

    @app.get("/v1/applications")
    async def list_applications(request: Request) -> HTTPResponse:
        require_service(request)
        token = verification_token(request)

        def applications(session):
            holder, _ = service.holder_for_token(session, token)
            return service.list_applications(session, holder)

        return json_response(await run(reading(applications)))

    # --- handoff tickets ----------------------------------------------------------------------

    @app.post("/v1/handoff-tickets")
    async def open_ticket(request: Request) -> HTTPResponse:
        require_service(request)
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
            language = data.get("language", "zh")
            refs = {name: service.hash_reference(cfg.id_hash_key, name, data.get(name))
                    for name in ("conversation", "client")}
            return service.idempotent(
                session, key, fingerprint(request, data, holder.id if holder else None),
                lambda s: service.open_ticket(s, holder, summary, channel, language,
                                              conversation_ref=refs["conversation"], client_ref=refs["client"]),
            )

        return reply(await run(transaction(work)))

    @app.get("/v1/handoff-tickets")
    async def list_tickets(request: Request) -> HTTPResponse:
        require_service(request)
        args = request.get_args(keep_blank_values=True)
        status = validation.enum_query(args, "status", ("open", "closed"))
        limit = validation.int_query(args, "limit", 50, 1, 200)
        return json_response(await run(reading(lambda s: service.list_tickets(s, status, limit))))

    @app.post("/v1/handoff-tickets/<ticket_number:str>/close")
    async def close_ticket(request: Request, ticket_number: str) -> HTTPResponse:
        require_service(request)
        key = idempotency_key(request)
        data = validation.body(request.body, "CloseTicketRequest", required=False)
        channel = data.get("channel", "staff")

        def work(session):
            if not validation.matches(TICKET_NUMBER_PATTERN, ticket_number):
                def act(s):
                    raise not_found("ticket_not_found", "handoff ticket")
            else:
                def act(s):
                    return service.close_ticket(s, ticket_number, channel)
            return service.idempotent(session, key, fingerprint(request, data, None), act)

        return reply(await run(transaction(work)))

    # --- development only ---------------------------------------------------------------------

    if cfg.development:
        @app.get("/dev/outbox")
        async def dev_outbox(request: Request) -> HTTPResponse:
            require_service(request)
            limit = validation.int_query(request.get_args(keep_blank_values=True), "limit", 20, 1, 100)

            def messages(session):
                return {
                    "messages": [
                        {"id": m.id, "phone_masked": m.phone_masked, "text": m.text, "created_at": service.iso(m.created_at)}
                        for m in latest_messages(session, limit)
                    ]
                }

            return json_response(await run(reading(messages)))

    return app
