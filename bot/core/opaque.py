"""Keyed hashes that stand for a conversation, a chat session or a client
address wherever one is kept (rate limits, hand-over markers, ratings, the
figures and the review inbox): the thing itself is never stored.

One key for all of them, derived from WEB_SECRET_KEY (or the development
secret in var/secrets/), so the web process and the WeChat channel in the
Rasa process name a conversation alike.
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Callable, Dict

WEB_SECRET_FILE = "web_secret_key"  # in var/secrets/ when WEB_SECRET_KEY is empty

Opaque = Callable[[str], str]


def web_secret_key(env: Dict[str, str]) -> str:
    from bot.core.local_secrets import setting_or_local_secret

    return setting_or_local_secret(env.get("WEB_SECRET_KEY", ""), WEB_SECRET_FILE)


def hasher(secret_key: str) -> Opaque:
    """`opaque(text)`: 32 hex digits of an HMAC standing for `text`."""
    key = hmac.new(secret_key.encode(), b"helpdesk-rate-limit", hashlib.sha256).digest()  # the label predates the other uses

    def opaque(text: str) -> str:
        return hmac.new(key, text.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()[:32]

    return opaque


def conversation_key(opaque: Opaque, sender: str) -> str:
    """What stands for a conversation (a Rasa sender id) in every table and shared state."""
    return opaque("conversation:" + sender)
