"""Chat session ids the web process issues and signs.

Rasa's REST channel believes any sender id, so the browser must not pick one:
it gets `<random>.<signature>` from us (HMAC-SHA256 keyed with WEB_SECRET_KEY)
and presents it on every call; the Rasa sender id is derived from the random
part only after the signature checks out.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import Optional

_PURPOSE = b"helpdesk-chat-session:"  # keeps these signatures apart from any other use of the key
_FORMAT = re.compile(r"([A-Za-z0-9_-]{22,64})\.([A-Za-z0-9_-]{43})")
SENDER_PREFIX = "web-"


class ChatSessions:
    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("chat sessions need a secret key")
        self._key = key.encode()

    def _signature(self, nonce: str) -> str:
        digest = hmac.new(self._key, _PURPOSE + nonce.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(self) -> str:
        nonce = secrets.token_urlsafe(24)
        return f"{nonce}.{self._signature(nonce)}"

    def sender(self, session_id: Optional[str]) -> Optional[str]:
        """The Rasa sender id of a genuine session id; None if missing, malformed or forged."""
        match = _FORMAT.fullmatch(session_id or "")  # fullmatch: "$" would accept a trailing newline
        if not match:
            return None
        nonce, signature = match.groups()
        if not hmac.compare_digest(signature, self._signature(nonce)):
            return None
        return SENDER_PREFIX + nonce
