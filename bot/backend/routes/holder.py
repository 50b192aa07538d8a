"""Holder-scoped routes act for the holder whose identity was verified: the
X-Verification-Token header names them."""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from bot.backend import service, validation
from bot.backend.errors import verification_required
from bot.backend.models import Holder
from bot.backend.openapi import VERIFICATION_TOKEN_PATTERN
from bot.backend.routes.context import Backend
from bot.http.json import json_response


def verification_token(request: Request, required: bool = True) -> Optional[str]:
    """The X-Verification-Token header; missing or malformed: 401
    verification_required when required, else None."""
    token = request.headers.get("x-verification-token")
    if validation.matches(VERIFICATION_TOKEN_PATTERN, token):
        return token
    if required:
        raise verification_required()
    return None


async def holder_listing(backend: Backend, request: Request,
                         listing: Callable[[Session, Holder], Dict[str, Any]]) -> HTTPResponse:
    """`listing(session, holder)` for the verified holder, as a response."""
    token = verification_token(request)

    def read(session: Session) -> Dict[str, Any]:
        holder, _ = service.holder_for_token(session, token)
        return listing(session, holder)

    return json_response(await backend.work.read(read))
