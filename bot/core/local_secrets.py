"""Secrets a single machine keeps for itself in var/secrets/ (mode 0600).

In development an empty secret setting (BACKEND_ID_HASH_KEY, WEB_SECRET_KEY,
SLOT_SEAL_KEY) falls back to a random value generated once and kept here, so
it survives restarts. Past one machine every replica must share the same
value: set the variable instead.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Callable

from bot.core.paths import VAR

SECRETS_DIR = VAR / "secrets"


def write_secret(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    os.chmod(path, 0o600)


def load_or_create_secret(path: Path, make: Callable[[], str] = lambda: secrets.token_urlsafe(32)) -> str:
    """The secret kept in `path`, created (by `make`, mode 0600) if missing."""
    try:
        value = path.read_text().strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    value = make()
    write_secret(path, value)
    return value


def setting_or_local_secret(value: str, name: str, make: Callable[[], str] = lambda: secrets.token_urlsafe(32)) -> str:
    """`value` (a setting) if set, else the secret kept in var/secrets/<name>."""
    return value or load_or_create_secret(SECRETS_DIR / name, make)
