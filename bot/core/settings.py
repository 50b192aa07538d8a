"""Every setting of the product: one table, read from the environment.

Each process (the launcher, Rasa through `${VAR}` in endpoints.yml, the action
server, the tests) reads its settings from here; `python -m bot settings`
prints the table the README shows.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, List

from bot.core.paths import MODELS, VAR


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: List[Setting] = [
    Setting("HELPDESK_HOST", "127.0.0.1", "Address every process binds to."),
    Setting("RASA_PORT", "5005", "Port of the Rasa server (REST channel at /webhooks/rest/webhook)."),
    Setting("ACTION_SERVER_PORT", "5055", "Port of the action server."),
    Setting(
        "ACTION_SERVER_URL",
        "http://${HELPDESK_HOST}:${ACTION_SERVER_PORT}/webhook",
        "Where the Rasa server calls custom actions.",
    ),
    Setting(
        "RASA_AUTH_TOKEN",
        "",
        "Token for Rasa's HTTP API (/model/parse, trackers), sent as `Authorization: Bearer` (never on a command "
        "line or in a URL); empty: one made once and kept in var/secrets/ (0600), where `python -m bot reload` "
        "finds it.",
    ),
    Setting(
        "REST_CHANNEL_SECRET",
        "",
        "Secret the REST channel's callers (the web process, tests, benchmarks) present in the "
        "X-Helpdesk-Rest-Secret header; others get 401. Empty: a random one per start.",
    ),
    Setting(
        "ACTION_SERVER_SECRET",
        "",
        "Secret the Rasa server presents to the action server (X-Helpdesk-Action-Secret, from endpoints.yml); "
        "other callers get 401. Empty: a random one per start.",
    ),
    Setting("BACKEND_PORT", "8000", "Port of the card-status backend."),
    Setting(
        "BACKEND_URL",
        "http://${HELPDESK_HOST}:${BACKEND_PORT}",
        "Where the action server reaches the card-status backend.",
    ),
    Setting(
        "BACKEND_DB_URL",
        "sqlite:///" + str(VAR / "backend.db"),
        "SQLAlchemy URL of the backend's database (postgresql://... in production).",
    ),
    Setting(
        "BACKEND_SERVICE_TOKEN",
        "",
        "Bearer token the action server presents to the backend; empty: a random one per start.",
    ),
    Setting(
        "BACKEND_ID_HASH_KEY",
        "",
        "HMAC key for looking up ID numbers; empty (development only): one kept in var/secrets/.",
    ),
    Setting(
        "BACKEND_MODE",
        "development",
        "development (SMS outbox readable at /dev/outbox) or production (outbox off, secrets required).",
    ),
    Setting("BACKEND_MAX_BODY_BYTES", "16384", "Largest request body the backend accepts."),
    Setting(
        "SMS_CODES_PER_IDENTITY_HOUR",
        "5",
        "Verification codes the backend sends for one name and ID number within an hour; past it, 429 and a wait.",
    ),
    Setting(
        "SMS_CODES_PER_PHONE_DAY",
        "10",
        "Verification codes the backend sends to one phone within 24 hours (whoever asks); past it, 429 and a wait.",
    ),
    Setting(
        "SLOT_SEAL_KEY",
        "",
        "Fernet key the action server seals the holder's name and verification token with before they go into "
        "slots; empty: one kept in var/secrets/ (replicas must share one).",
    ),
    Setting("WEB_PORT", "8080", "Port of the web process: chat widget demo page at /, staff FAQ lookup at /staff."),
    Setting(
        "RASA_URL",
        "http://${HELPDESK_HOST}:${RASA_PORT}",
        "Where the web process reaches the Rasa server (nginx in a cluster).",
    ),
    Setting(
        "WEB_SECRET_KEY",
        "",
        "HMAC key signing the chat session ids the web process issues; empty: one kept in var/secrets/.",
    ),
    Setting(
        "WEB_PROXIES_COUNT",
        "0",
        "Reverse proxies in front of the web process that add X-Forwarded-For (behind one nginx: 1); the staff "
        "login throttle then counts the client's address instead of the proxy's. 0: the header is ignored.",
    ),
    Setting(
        "PUBLIC_ORIGIN",
        "",
        "The origin browsers see behind a TLS proxy (e.g. https://helpdesk.example.gov.cn): the staff login's "
        "Origin check compares with it, and https makes the login cookie Secure. Empty: the request's own.",
    ),
    Setting(
        "CHAT_IDLE_MINUTES",
        "30",
        "A chat session unused this long is over (a kiosk's next user starts afresh); the widget forgets it too.",
    ),
    Setting(
        "CHAT_LIMIT_FACTOR",
        "1",
        "Multiplies the chat API's allowances per address and per session (new chats, messages; "
        "bot/web/rate_limit.py): raise it where many citizens share one address, e.g. a service hall's kiosks.",
    ),
    Setting("STAFF_DB_URL", "sqlite:///" + str(VAR / "staff.db"), "SQLAlchemy URL of the staff accounts database."),
    Setting("STAFF_USER", "", "With STAFF_PASSWORD: `make run` creates (or resets) this staff account."),
    Setting("STAFF_PASSWORD", "", "Password of STAFF_USER (at least 10 characters)."),
    Setting("STAFF_SESSION_MINUTES", "480", "A staff login expires after this many minutes."),
    Setting(
        "RETENTION_DAYS",
        "180",
        "Conversations whose last message is older than this many days are deleted from the tracker store, "
        "with their hand-over tickets: daily by `make run`, and by `python -m bot purge`.",
    ),
    Setting(
        "HANDOFF_HOURS",
        "Mon-Fri 09:00-17:00",
        "When staff answer live, in Asia/Shanghai (`Mon-Fri 09:00-12:00,13:30-17:00; Sat 09:00-12:00`, "
        "`always`, `never`); outside them a citizen asking for a person is offered a call back.",
    ),
    Setting(
        "HANDOFF_WAIT_MINUTES",
        "10",
        "A citizen waiting this long for a person with nobody claiming the conversation is told so and offered a call back.",
    ),
    Setting("WECHAT_TOKEN", "", "Token set in the Official Account's server configuration; empty: the WeChat channel refuses all requests."),
    Setting("WECHAT_APP_ID", "", "The Official Account's AppID (checked inside encrypted messages)."),
    Setting("WECHAT_APP_SECRET", "", "AppSecret, for the access token of the customer-service message API."),
    Setting("WECHAT_ENCODING_AES_KEY", "", "EncodingAESKey (43 characters) for safe mode (encrypt_type=aes)."),
    Setting("WECHAT_API_BASE", "https://api.weixin.qq.com", "Base URL of WeChat's API (a local fake in tests)."),
    Setting("WECHAT_REPLY_SECONDS", "4.5", "How long a WeChat turn may take before the answer goes by the customer-service API."),
    Setting(
        "REDIS_URL",
        "",
        "Redis shared by replicas (e.g. redis://127.0.0.1:6379/0): conversation locks; WeChat de-duplication, "
        "numbered options, long-answer parts, access token; empty: in-process memory (one Rasa process only).",
    ),
    Setting(
        "TICKET_LOCK_LIFETIME",
        "30",
        "Seconds a turn may hold its conversation's lock (Rasa reads it; its default is 60): the next message "
        "after a Rasa replica died mid-turn waits this long. Our turns take well under a second.",
    ),
    Setting("TRACKER_DB", str(VAR / "tracker.db"), "SQLite file of the conversation (tracker) store."),
    Setting(
        "TRACKER_DB_URL",
        "sqlite:///${TRACKER_DB}",
        "SQLAlchemy URL of the tracker store (postgresql://... shared by Rasa replicas).",
    ),
    Setting(
        "PGPASSFILE",
        str(VAR / "secrets" / "pgpass"),
        "PostgreSQL's password file (libpq reads it) for postgresql:// URLs without a password: "
        "scripts/ensure_services.sh writes the password of the role `helpdesk` there (mode 0600).",
    ),
    Setting("RASA_REPLICAS", "1", "Rasa server processes; more than one puts nginx in front (see Deploying)."),
    Setting("ACTION_SERVER_REPLICAS", "1", "Action server processes; more than one puts nginx in front."),
    Setting("MODEL_DIR", str(MODELS), "Where trained models are written and loaded from."),
    Setting("LOG_DIR", str(VAR / "log"), "Where the launcher writes each process's log."),
    Setting("RUN_DIR", str(VAR / "run"), "Where the launcher writes what one start needs: nginx.conf, processes.json."),
    Setting("LOG_LEVEL", "INFO", "Log level of every process (DEBUG logs user text: keep it off in production)."),
    Setting("RASA_TELEMETRY_ENABLED", "false", "Rasa's own telemetry (there is no network to send it to)."),
]


def _expand(value: str, env: Dict[str, str]) -> str:
    for setting in SETTINGS:
        value = value.replace("${%s}" % setting.name, env.get(setting.name, ""))
    return value


def resolved(environ: Dict[str, str] = None) -> Dict[str, str]:
    """Each setting's value: the environment's, else the default."""
    environ = os.environ if environ is None else environ
    env: Dict[str, str] = {}
    for setting in SETTINGS:
        value = environ.get(setting.name)
        env[setting.name] = value if value not in (None, "") else _expand(setting.default, env)
    return env


def apply_defaults() -> Dict[str, str]:
    """Puts every setting into os.environ (child processes and `${VAR}` in
    Rasa's YAML files need them all defined) and returns them."""
    env = resolved()
    os.environ.update(env)
    return env


def markdown_table() -> str:
    rows = ["| variable | default | what it is |", "|---|---|---|"]
    for s in SETTINGS:
        default = s.default.replace(str(VAR.parent) + "/", "") if s.default else "(empty)"
        rows.append(f"| `{s.name}` | `{default}` | {s.help} |")
    return "\n".join(rows)
