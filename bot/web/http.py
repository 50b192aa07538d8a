"""What the web process's routes share on top of bot/http: the JSON body and
its text fields, the client's address, the security headers of every response.

Errors are bot.http's HttpError, `{"error": {"code", "message"}}` with a 4xx
or 503, answered by its JsonErrorHandler (the web's wording of sanic's own
errors is WEB_ERROR_MESSAGES).
"""
from __future__ import annotations

from typing import Any, Dict

from sanic.request import Request
from sanic.response import HTTPResponse

from bot.http.errors import HttpError
from bot.http.json import json_response, loads
from bot.text import is_clean_text

# The names the web's route modules know them by (chat.py, pages.py, rate_limit.py).
WebError = HttpError
__all__ = ["WebError", "json_response", "json_body", "text_field", "client_address", "add_security_headers"]

WEB_ERROR_MESSAGES = {404: "No such page.", 405: "This method is not allowed here."}

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


def json_body(request: Request) -> Dict[str, Any]:
    """The request body as a JSON object, or 400 invalid_json."""
    try:
        data = loads(request.body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise HttpError(400, "invalid_json", "The body must be a JSON object.")
    return data


def text_field(data: Dict[str, Any], name: str, max_chars: int) -> str:
    """A required non-blank string field of at most max_chars: else 422 (413 when too long)."""
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise HttpError(422, "invalid_request", f"`{name}` must be a non-empty string.")
    if not is_clean_text(value):
        raise HttpError(422, "invalid_request", f"`{name}` must be text without NUL or lone surrogate characters.")
    if len(value) > max_chars:
        raise HttpError(413, "too_long", f"`{name}` is longer than {max_chars} characters.")
    return value.strip()


def client_address(request: Request) -> str:
    """The client's address: X-Forwarded-For's as far as WEB_PROXIES_COUNT trusts it, else the peer's."""
    return (request.remote_addr or request.ip or "unknown")[:64]


def add_security_headers(request: Request, response: HTTPResponse) -> None:
    """Response middleware: the headers every answer carries."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")
