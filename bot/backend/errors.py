"""Errors the backend answers with: `{"error": {"code", "message", ...}}` and a 4xx.

The domain logic (service.py) raises DomainError; the HTTP layer (api.py)
turns it into a response. Messages never contain personal data.
"""
from __future__ import annotations

from typing import Any, Dict


class DomainError(Exception):
    def __init__(self, http_status: int, code: str, message: str, /, **extra: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.status = http_status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> Dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


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
