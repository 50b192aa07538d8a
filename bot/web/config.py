"""The web process's configuration: settings from `bot.core.settings`, fixed limits."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional
from urllib.parse import urlsplit

from bot.core.opaque import web_secret_key
from bot.core.settings import resolved
from bot.handoff.hours import wait_minutes


MAX_BODY_BYTES = 16 * 1024
MAX_MESSAGE_CHARS = 1000  # one chat message
MAX_QUERY_CHARS = 500  # one staff search
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024

# Failed logins (bot/web/staff/logins.py): counted per username and address
# together within the window; past FREE_LOGIN_FAILURES each further attempt
# waits twice as long as the one before (5 s, 10 s, 20 s ... at most the cap).
# One address trying many usernames gets the same past ADDRESS_FREE_LOGIN_FAILURES.
FREE_LOGIN_FAILURES = 3
LOGIN_FIRST_DELAY_SECONDS = 5
ADDRESS_FREE_LOGIN_FAILURES = 20
LOGIN_DELAY_CAP_SECONDS = 15 * 60
LOGIN_FAILURE_WINDOW_SECONDS = 60 * 60

RASA_TIMEOUT_SECONDS = 30.0  # a turn may call the action server and the backend
BACKEND_TIMEOUT_SECONDS = 5.0

# The widget's long poll (GET /api/chat/updates): how long it waits for a
# change, and how often it looks at the conversation's version counter.
LONG_POLL_SECONDS = 20.0
LONG_POLL_CHECK_SECONDS = 0.3
MAX_STAFF_MESSAGE_CHARS = 2000  # one staff message
HANDOFF_SWEEP_SECONDS = 15.0  # how often waiting hand-overs are checked for HANDOFF_WAIT_MINUTES


class ConfigError(RuntimeError):
    """The web process cannot start with these settings; the message says why."""


@dataclass(frozen=True)
class WebConfig:
    host: str
    port: int
    rasa_url: str
    rasa_token: str
    secret_key: str
    staff_db_url: str
    session_minutes: int
    backend_url: str
    backend_token: str
    log_level: str
    proxies_count: int  # trusted X-Forwarded-For hops (sanic's PROXIES_COUNT)
    public_origin: str  # "" or scheme://host[:port] as browsers see it (behind a TLS proxy)
    chat_idle_minutes: int
    chat_limit_factor: int
    redis_url: str  # "" : limits and ended sessions in this process only
    handoff_wait_minutes: int  # a live hand-over nobody claimed this long is offered a call back instead
    tracker_db_url: str  # Rasa's tracker store: the figures' indexer reads its events (bot/insights/indexer.py)


def _positive_int(env: Dict[str, str], name: str, high: int) -> int:
    try:
        value = int(env[name])
    except ValueError:
        raise ConfigError(f"{name} must be an integer, not {env[name]!r}") from None
    if not 1 <= value <= high:
        raise ConfigError(f"{name} must be between 1 and {high}")
    return value


def _count(env: Dict[str, str], name: str, high: int) -> int:
    return 0 if env[name] == "0" else _positive_int(env, name, high)


def _origin(value: str) -> str:
    if not value:
        return ""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") \
            or parts.query or parts.fragment:
        raise ConfigError(f"PUBLIC_ORIGIN must be like https://helpdesk.example.gov.cn, not {value!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _wait_minutes(environ: Optional[Dict[str, str]]) -> int:
    try:
        return wait_minutes(environ)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def load_config(environ: Optional[Dict[str, str]] = None) -> WebConfig:
    env = resolved(environ)
    return WebConfig(
        host=env["HELPDESK_HOST"],
        port=_positive_int(env, "WEB_PORT", 65535),
        rasa_url=env["RASA_URL"].rstrip("/"),
        rasa_token=env["RASA_AUTH_TOKEN"],
        secret_key=web_secret_key(env),
        staff_db_url=env["STAFF_DB_URL"],
        session_minutes=_positive_int(env, "STAFF_SESSION_MINUTES", 60 * 24 * 30),
        backend_url=env["BACKEND_URL"].rstrip("/"),
        backend_token=env["BACKEND_SERVICE_TOKEN"],
        log_level=env["LOG_LEVEL"].upper(),
        proxies_count=_count(env, "WEB_PROXIES_COUNT", 5),
        public_origin=_origin(env["PUBLIC_ORIGIN"]),
        chat_idle_minutes=_positive_int(env, "CHAT_IDLE_MINUTES", 60 * 24),
        chat_limit_factor=_positive_int(env, "CHAT_LIMIT_FACTOR", 1_000_000),
        redis_url=env["REDIS_URL"],
        handoff_wait_minutes=_wait_minutes(environ),
        tracker_db_url=env["TRACKER_DB_URL"],
    )
