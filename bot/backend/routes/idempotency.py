"""Mutations acted on once per Idempotency-Key (service.idempotent stores the
answer; a retry gets it again with `Idempotent-Replayed: true`)."""
from __future__ import annotations

from typing import Any, Callable, Dict, NoReturn, Optional, Tuple

from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from bot.backend import service, validation
from bot.backend.errors import DomainError
from bot.backend.openapi import IDEMPOTENCY_KEY_PATTERN
from bot.backend.routes.context import Backend
from bot.http.json import json_response

Result = Tuple[int, Dict[str, Any], bool]  # status, body, replayed


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


def fingerprint(backend: Backend, request: Request, body: Dict[str, Any], subject: Any) -> str:
    """What makes two requests with one key the same request (a keyed hash)."""
    return service.fingerprint(backend.cfg.id_hash_key, request.method, request.path, subject, body)


def refusing(error: DomainError) -> Callable[[Session], NoReturn]:
    """An action that refuses with `error`: stored and replayed like any answer."""

    def act(session: Session) -> NoReturn:
        raise error

    return act


async def once(backend: Backend, work: Callable[[Session], Result]) -> HTTPResponse:
    """`work` (which calls service.idempotent) in a write transaction, as a response."""
    status, body, replayed = await backend.work.write(work)
    return json_response(body, status=status, headers={"Idempotent-Replayed": "true"} if replayed else None)
