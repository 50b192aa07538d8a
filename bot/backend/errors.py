"""Errors the backend answers with: `{"error": {"code", "message", ...}}` and a 4xx.

The domain logic (service.py) raises DomainError, bot.http's one error class
under the domain's name: the error handler answers it, and a write that raised
it still commits what it wrote before (bot/http/blocking.py). Messages never
contain personal data.
"""
from __future__ import annotations

from bot.http.errors import HttpError


class DomainError(HttpError):
    """A refusal of the domain logic (no headers of its own)."""


def unauthorized() -> DomainError:
    return DomainError(401, "unauthorized", "A valid service token is required (Authorization: Bearer ...).")


def verification_required() -> DomainError:
    return DomainError(
        401,
        "verification_required",
        "A valid verification token is required (X-Verification-Token); verify the holder's identity first.",
    )


def invalid_request(message: str) -> DomainError:
    return DomainError(422, "invalid_request", message)


def not_found(code: str, what: str) -> DomainError:
    return DomainError(404, code, f"No such {what}.")
