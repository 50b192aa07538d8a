"""Values the backend keeps but must never store in clear: a hand-over's
conversation (Rasa's sender id) and its call-back phone.

Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from
BACKEND_ID_HASH_KEY for this one purpose, so only the backend can read them
back (the tracker store's slot key, SLOT_SEAL_KEY, is the action server's and
is not shared). A value sealed under another key, or tampered with, opens to None.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache
from typing import Optional

from cryptography.fernet import Fernet, InvalidToken


@lru_cache(maxsize=8)
def _fernet(id_hash_key: str) -> Fernet:
    key = hmac.new(id_hash_key.encode(), b"purpose:sealed-values", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(id_hash_key: str, value: Optional[str]) -> Optional[str]:
    """`value` encrypted and authenticated (None stays None)."""
    if value is None:
        return None
    return _fernet(id_hash_key).encrypt(value.encode("utf-8", "surrogateescape")).decode("ascii")


def unseal(id_hash_key: str, sealed: Optional[str]) -> Optional[str]:
    """The clear value, or None (nothing stored, another key, tampered with)."""
    if not sealed:
        return None
    try:
        return _fernet(id_hash_key).decrypt(sealed.encode("ascii")).decode("utf-8", "surrogateescape")
    except (InvalidToken, ValueError):
        return None
