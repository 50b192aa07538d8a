"""`new_app`: a Sanic app as each of our services runs one: the checked
request class, compact UTF-8 JSON, one body limit, JSON errors, timeouts, and
an access log line per request (method, masked path, status, time; never the
query string, a header or the body)."""
from __future__ import annotations

import logging
import time

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.http.errors import JsonErrorHandler
from bot.http.json import dumps
from bot.http.request import CheckedRequest
from bot.privacy.pii import redact


def new_app(name: str, *, max_body_bytes: int, errors: JsonErrorHandler, access_log: logging.Logger) -> Sanic:
    app = Sanic(name, configure_logging=False, dumps=dumps, request_class=CheckedRequest)
    app.config.REQUEST_MAX_SIZE = max_body_bytes
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.REQUEST_TIMEOUT = 30
    app.config.RESPONSE_TIMEOUT = 60
    app.error_handler = errors

    @app.on_request
    async def _started(request: Request) -> None:
        request.ctx.started = time.monotonic()

    @app.on_response
    async def _log(request: Request, response: HTTPResponse) -> None:
        started = getattr(request.ctx, "started", None)
        took = f"{(time.monotonic() - started) * 1000:.0f}ms" if started else "-"
        # The path may carry anything a client put there: ID and phone numbers masked.
        access_log.info("%s %s %s %s", request.method, redact(request.path)[:200], response.status, took)

    return app
