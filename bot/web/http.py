"""HTTP plumbing shared by the routes: JSON errors, body parsing, security headers.

Errors are `{"error": {"code", "message"}}` with a 4xx or 503, as the card
backend answers; nothing unexpected ever shows a stack trace (a logged 500
with a generic message). The request class and the JSON encoder are the
backend's (the same sanic 21.12 Content-Length guard).
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, Optional

from sanic.exceptions import SanicException
from sanic.handlers import ErrorHandler
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.backend.api import json_response
from bot.text import is_clean_text

log = logging.getLogger("bot.web")

# No inline script or style anywhere: everything comes from /static on this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

_SANIC_CODES = {
    400: ("bad_request", "The request could not be understood."),
    404: ("not_found", "No such page."),
    405: ("method_not_allowed", "This method is not allowed here."),
    408: ("request_timeout", "The request took too long to arrive."),
    413: ("payload_too_large", "The request is too large."),
}


class WebError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: Optional[Dict[str, str]] = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def error_response(error: WebError) -> HTTPResponse:
    return json_response({"error": {"code": error.code, "message": error.message}},
                         status=error.status, headers=error.headers)


class JsonErrorHandler(ErrorHandler):
    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        if isinstance(exception, WebError):
            return error_response(exception)
        if isinstance(exception, SanicException):
            status = getattr(exception, "status_code", 500) or 500
            code, message = _SANIC_CODES.get(status, ("bad_request", "The request could not be handled."))
            if status >= 500:
                code, message = "internal_error", "Something went wrong on our side."
            headers = {k: v for k, v in (getattr(exception, "headers", None) or {}).items() if k.lower() == "allow"}
            return error_response(WebError(status, code, message, headers))
        if getattr(request, "route", None) is None:  # raised while reading a malformed request
            return error_response(WebError(400, "bad_request", "The request could not be understood."))
        log.error("unexpected %s on %s %s", type(exception).__name__, request.method, request.path[:100])
        return error_response(WebError(500, "internal_error", "Something went wrong on our side."))


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def json_body(request: Request) -> Dict[str, Any]:
    """The request body as a JSON object, or 400 invalid_json."""
    try:
        data = json.loads(request.body.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise WebError(400, "invalid_json", "The body must be a JSON object.") from None
    if not isinstance(data, dict):
        raise WebError(400, "invalid_json", "The body must be a JSON object.")
    return data


def text_field(data: Dict[str, Any], name: str, max_chars: int) -> str:
    """A required non-blank string field of at most max_chars: else 422 (413 when too long)."""
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise WebError(422, "invalid_request", f"`{name}` must be a non-empty string.")
    if not is_clean_text(value):
        raise WebError(422, "invalid_request", f"`{name}` must be text without NUL or lone surrogate characters.")
    if len(value) > max_chars:
        raise WebError(413, "too_long", f"`{name}` is longer than {max_chars} characters.")
    return value.strip()


def client_address(request: Request) -> str:
    """The client's address: X-Forwarded-For's as far as WEB_PROXIES_COUNT trusts it, else the peer's."""
    return (request.remote_addr or request.ip or "unknown")[:64]


def add_security_headers(response: HTTPResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")
