"""Chat session ids the web process issues and signs.

Rasa's REST channel believes any sender id, so the browser must not pick one:
it gets `<random>.<time>.<signature>` from us (HMAC-SHA256 keyed with
WEB_SECRET_KEY) and presents it on every call; the Rasa sender id is derived
from the random part only after the signature checks out.

A session ends after CHAT_IDLE_MINUTES without use (a kiosk's or a shared
phone's next user must not continue a verified conversation): the time in the
id is its last use, every answer carries the id re-signed with the current
time, and an id whose time is older than the idle limit is refused. "New
chat" ends a session at once (bot/web/chat.py keeps the ended ones).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from typing import Callable, Optional

_PURPOSE = b"helpdesk-chat-session:"  # keeps these signatures apart from any other use of the key
_FORMAT = re.compile(r"([A-Za-z0-9_-]{22,64})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")
SENDER_PREFIX = "web-"
INVALID, EXPIRED = "invalid_session", "session_expired"


class ChatSessions:
    def __init__(self, key: str, idle_seconds: int = 30 * 60, clock: Callable[[], float] = time.time) -> None:
        if not key:
            raise ValueError("chat sessions need a secret key")
        self._key = key.encode()
        self.idle_seconds, self.clock = idle_seconds, clock

    def _signature(self, nonce: str, at: str) -> str:
        digest = hmac.new(self._key, _PURPOSE + f"{nonce}.{at}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(self, nonce: Optional[str] = None) -> str:
        """A new session id, or (nonce given) the id of that session re-signed as used now."""
        nonce = nonce or secrets.token_urlsafe(24)
        at = str(int(self.clock()))
        return f"{nonce}.{at}.{self._signature(nonce, at)}"

    def check(self, session_id: Optional[str]):
        """(nonce, None) for a genuine, live session id; (None, INVALID or EXPIRED) otherwise."""
        match = _FORMAT.fullmatch(session_id or "")  # fullmatch: "$" would accept a trailing newline
        if not match:
            return None, INVALID
        nonce, at, signature = match.groups()
        if not hmac.compare_digest(signature, self._signature(nonce, at)):
            return None, INVALID
        if self.clock() - int(at) > self.idle_seconds:
            return None, EXPIRED
        return nonce, None

    def sender(self, session_id: Optional[str]) -> Optional[str]:
        """The Rasa sender id of a genuine, live session id; None otherwise."""
        nonce, _ = self.check(session_id)
        return SENDER_PREFIX + nonce if nonce else None
