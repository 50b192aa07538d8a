"""Slot values only the action server can read.

The holder's name (until the verification replaces it with its masked form)
and the verification token must travel in slots from one turn to the next,
but the tracker store must not hold them in clear. The action server seals
them with a Fernet key (SLOT_SEAL_KEY; AES-128-CBC + HMAC-SHA256) that the
Rasa server never has; the tracker store recognises sealed values by their
prefix and stores them as they are.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Optional

from cryptography.fernet import Fernet, InvalidToken

from bot.local_secrets import setting_or_local_secret
from bot.settings import resolved

PREFIX = "sealed:"


@lru_cache(maxsize=None)
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode("ascii"))


def _current() -> Fernet:
    key = setting_or_local_secret(resolved()["SLOT_SEAL_KEY"], "slot_seal_key",
                                  make=lambda: Fernet.generate_key().decode("ascii"))
    return _fernet(key)


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def seal(value: str) -> str:
    return PREFIX + _current().encrypt(value.encode("utf-8")).decode("ascii")


def unseal(value: Any) -> Optional[str]:
    """The clear value of a sealed slot; None for anything else (unset,
    never sealed, sealed with another key, tampered with)."""
    if not is_sealed(value):
        return None
    try:
        return _current().decrypt(value[len(PREFIX):].encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        return None
