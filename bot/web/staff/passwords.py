"""Password hashes: scrypt (hashlib, no extra dependency) with a per-user salt.

Stored as `scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`, so the cost can be
raised later without invalidating existing hashes. n=2**14, r=8 takes about
50 ms and 16 MiB per check: cheap for a login, expensive for a guesser.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N, R, P = 2 ** 14, 8, 1
SALT_BYTES = 16
KEY_BYTES = 32
_MAXMEM = 64 * 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES, maxmem=_MAXMEM)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(_derive(password, salt, N, R, P))}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of `password` against a stored hash; False for a malformed one."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        derived = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
        return hmac.compare_digest(derived, base64.b64decode(expected))
    except (ValueError, TypeError):
        return False


# Checked when the username is unknown, so that a wrong username takes as long as a wrong password.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
