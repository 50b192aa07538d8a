"""The backend's configuration: settings from `bot.core.settings`, secrets, fixed rules.

Secrets in development mode: an empty BACKEND_ID_HASH_KEY is replaced by one
generated once and kept in var/secrets/backend_id_hash_key (mode 0600), so ID
lookups survive restarts; an empty BACKEND_SERVICE_TOKEN is replaced by a new
random one at each `serve`, written to var/secrets/backend_service_token for
whoever starts the action server. Production mode refuses to start without
either (ConfigError).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

from bot.core.local_secrets import SECRETS_DIR, load_or_create_secret, write_secret
from bot.core.settings import resolved

ID_HASH_KEY_FILE = SECRETS_DIR / "backend_id_hash_key"
SERVICE_TOKEN_FILE = SECRETS_DIR / "backend_service_token"

MODES = ("development", "production")
MIN_PRODUCTION_SECRET_LENGTH = 16

# Rules of the verification flow (see docs/BACKEND_API.md).
CODE_LIFETIME_SECONDS = 5 * 60
TOKEN_LIFETIME_SECONDS = 15 * 60
MAX_WRONG_CODES = 5
LOCK_SECONDS = 30 * 60


# Windows of the SMS quotas (their sizes are settings).
IDENTITY_QUOTA_SECONDS = 60 * 60
PHONE_QUOTA_SECONDS = 24 * 60 * 60


class ConfigError(RuntimeError):
    """The backend cannot start with these settings; the message says why."""


@dataclass(frozen=True)
class BackendConfig:
    host: str
    port: int
    db_url: str
    service_token: str
    id_hash_key: str
    mode: str
    max_body_bytes: int
    codes_per_identity_hour: int = 5
    codes_per_phone_day: int = 10

    @property
    def development(self) -> bool:
        return self.mode == "development"


def new_service_token(path: Path = SERVICE_TOKEN_FILE) -> str:
    """A fresh random service token, written to `path` (mode 0600)."""
    value = secrets.token_urlsafe(32)
    write_secret(path, value)
    return value


def _int(env: Dict[str, str], name: str, low: int, high: int) -> int:
    try:
        value = int(env[name])
    except ValueError:
        raise ConfigError(f"{name} must be an integer, not {env[name]!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}")
    return value


def load_config(environ: Optional[Dict[str, str]] = None, *, create_service_token: bool = False) -> BackendConfig:
    """The configuration from the environment (through bot.core.settings).

    create_service_token: in development mode with an empty
    BACKEND_SERVICE_TOKEN, generate one and write it to SERVICE_TOKEN_FILE
    (only `serve` does this; the other commands need no token).
    """
    env = resolved(environ)
    mode = env["BACKEND_MODE"].strip().lower()
    if mode not in MODES:
        raise ConfigError(f"BACKEND_MODE must be one of {', '.join(MODES)}, not {env['BACKEND_MODE']!r}")
    key = env["BACKEND_ID_HASH_KEY"]
    token = env["BACKEND_SERVICE_TOKEN"]
    if mode == "production":
        for name, value in (("BACKEND_ID_HASH_KEY", key), ("BACKEND_SERVICE_TOKEN", token)):
            if len(value) < MIN_PRODUCTION_SECRET_LENGTH:
                raise ConfigError(
                    f"production mode needs {name} set to a secret of at least "
                    f"{MIN_PRODUCTION_SECRET_LENGTH} characters"
                )
    if not key:
        key = load_or_create_secret(ID_HASH_KEY_FILE)
    if not token and create_service_token:
        token = new_service_token()
    return BackendConfig(
        host=env["HELPDESK_HOST"],
        port=_int(env, "BACKEND_PORT", 1, 65535),
        db_url=env["BACKEND_DB_URL"],
        service_token=token,
        id_hash_key=key,
        mode=mode,
        max_body_bytes=_int(env, "BACKEND_MAX_BODY_BYTES", 256, 10 * 1024 * 1024),
        codes_per_identity_hour=_int(env, "SMS_CODES_PER_IDENTITY_HOUR", 1, 1000),
        codes_per_phone_day=_int(env, "SMS_CODES_PER_PHONE_DAY", 1, 10000),
    )
