"""Slot values only the action server can read.

The holder's name (until the verification replaces it with its masked form)
and the verification token must travel in slots from one turn to the next,
but the tracker store must not hold them in clear. The action server seals
them with a Fernet key (SLOT_SEAL_KEY; AES-128-CBC + HMAC-SHA256) that the
Rasa server never has; the tracker store recognises sealed values by their
prefix and stores them as they are.

A sealed value is bound to its conversation (the sender id): the key only
opens it for the sender it was sealed for, so a value lifted from the tracker
store and put into a crafted tracker for another conversation opens to None.
"""
from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import Any, Optional

from cryptography.fernet import Fernet, InvalidToken

from bot.core.local_secrets import setting_or_local_secret
from bot.core.settings import resolved

PREFIX = "sealed:"
_SEPARATOR = "|"  # after the sender digest (hex, so it never holds the separator)


@lru_cache(maxsize=None)
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode("ascii"))


def _current() -> Fernet:
    key = setting_or_local_secret(resolved()["SLOT_SEAL_KEY"], "slot_seal_key",
                                  make=lambda: Fernet.generate_key().decode("ascii"))
    return _fernet(key)


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def _sender_digest(sender_id: str) -> str:
    # A digest keeps the sealed text short for long sender ids; it is inside the ciphertext.
    return hashlib.sha256(sender_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def seal(value: str, sender_id: str) -> str:
    """`value` encrypted and authenticated for the conversation `sender_id`."""
    plain = _sender_digest(sender_id) + _SEPARATOR + value
    return PREFIX + _current().encrypt(plain.encode("utf-8")).decode("ascii")


def unseal(value: Any, sender_id: str) -> Optional[str]:
    """The clear value of a slot sealed for `sender_id`; None for anything
    else (unset, never sealed, sealed with another key or for another
    conversation, tampered with)."""
    if not is_sealed(value):
        return None
    try:
        plain = _current().decrypt(value[len(PREFIX):].encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        return None
    digest, separator, clear = plain.partition(_SEPARATOR)
    if not separator or not hmac.compare_digest(digest, _sender_digest(sender_id)):
        return None
    return clear
