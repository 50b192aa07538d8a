"""The one error of our HTTP APIs, and the handler that answers every error as JSON.

A refusal is `{"error": {"code", "message", ...more fields}}` with its status.
sanic's own errors (unknown route, wrong method, a body too large, broken
framing) get the same shape from one table; a database that is down is 503
`database_unavailable`; anything else is a logged 500 that shows and logs
nothing of the request but its method and (masked) path.
"""
from __future__ import annotations

import logging
import traceback
from typing import Any, Dict, Mapping, Optional, Tuple

from sanic.exceptions import SanicException
from sanic.handlers import ErrorHandler
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import InterfaceError, OperationalError

from bot.http.json import json_response
from bot.privacy.pii import redact

log = logging.getLogger("bot.http")


class HttpError(Exception):
    """A refusal with its status, raised anywhere in a request (a handler, a
    middleware, work in a thread) and answered as JSON. `extra` fields go
    into the error object; `headers` into the response. Messages never carry
    what the client sent (it may be personal data)."""

    def __init__(self, status: int, code: str, message: str, /,
                 headers: Optional[Dict[str, str]] = None, **extra: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})
        self.extra = extra

    def body(self) -> Dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


# sanic's own errors, by status: (code, message). An app may word a message its own way.
SANIC_ERRORS: Dict[int, Tuple[str, str]] = {
    400: ("bad_request", "The request could not be understood."),
    404: ("not_found", "No such route."),
    405: ("method_not_allowed", "This method is not allowed on this route."),
    408: ("request_timeout", "The request took too long to arrive."),
    413: ("payload_too_large", "The request is too large."),
    503: ("service_unavailable", "The service is not available; try again later."),
}
OTHER_CLIENT_ERROR = ("bad_request", "The request could not be handled.")
INTERNAL_ERROR = ("internal_error", "Something went wrong on our side.")
DATABASE_UNAVAILABLE = ("database_unavailable", "The database is not available; try again later.")


def _where(exception: Exception) -> str:
    """file:line (function) where it was raised: enough to find it, and none of its message."""
    frames = traceback.extract_tb(exception.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno} ({frames[-1].name})" if frames else "?"


class JsonErrorHandler(ErrorHandler):
    """Every error as JSON; nothing from the request is echoed, nor logged in clear.

    messages: this app's wording of SANIC_ERRORS, by status;
    auth_scheme: named in WWW-Authenticate on every 401 (an API with a token scheme).
    """

    def __init__(self, messages: Optional[Mapping[int, str]] = None, auth_scheme: Optional[str] = None) -> None:
        super().__init__()
        self.messages = dict(messages or {})
        self.auth_scheme = auth_scheme

    def answer(self, error: HttpError) -> HTTPResponse:
        headers = dict(error.headers)
        if error.status == 401 and self.auth_scheme:
            headers.setdefault("WWW-Authenticate", self.auth_scheme)
        return json_response(error.body(), status=error.status, headers=headers)

    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        if isinstance(exception, HttpError):
            return self.answer(exception)
        if isinstance(exception, SanicException):
            status = getattr(exception, "status_code", 500) or 500
            code, message = SANIC_ERRORS.get(status) or (OTHER_CLIENT_ERROR if status < 500 else INTERNAL_ERROR)
            allow = {k: v for k, v in (getattr(exception, "headers", None) or {}).items() if k.lower() == "allow"}
            return self.answer(HttpError(status, code, self.messages.get(status, message), headers=allow))
        if isinstance(exception, (OperationalError, InterfaceError)):  # unreachable, locked, gone
            log.error("database error: %s", type(exception).__name__)
            return self.answer(HttpError(503, *DATABASE_UNAVAILABLE))
        if getattr(request, "route", None) is None:
            # Raised by sanic while reading the request (e.g. a Content-Length
            # that is not a number), before any route: the request is malformed.
            return self.answer(HttpError(400, *SANIC_ERRORS[400]))
        log.error("unexpected %s on %s %s at %s", type(exception).__name__, request.method,
                  redact(request.path)[:100], _where(exception))
        return self.answer(HttpError(500, *INTERNAL_ERROR))
