"""The `wechat` output channel: what the assistant says outside a follower's
own turn goes out through the customer-service message API.

Rasa asks a channel for it (`InputChannel.get_output_channel`) when its HTTP
API is called with `output_channel=wechat`: the web process's
`POST /conversations/{openid}/trigger_intent` when a member of staff claims,
hands back or closes a WeChat conversation, or when nobody came in time.
The recipient is the conversation's sender id: the follower's OpenID.

WeChat has no buttons and counts every message sent to a follower who has not
written since (errcode 45047), so what one trigger makes the assistant say is
sent as one message: messages are gathered until none came for QUIET_SECONDS
(at most MAX_GATHER_SECONDS), then rendered as a turn's answer is (numbered
options a number picks, a long text cut in parts "继续" fetches; the custom
`handoff` payload is never shown) and sent.
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel

QUIET_SECONDS = 0.3
MAX_GATHER_SECONDS = 3.0


class WeChatOutput(CollectingOutputChannel):
    """Collects like CollectingOutputChannel (Rasa builds each message with it)
    and sends each gathered batch through `turns` (bot/channels/wechat/turns.py:
    `present` renders and remembers, `deliver` sends, `spawn` keeps the task)."""

    def __init__(self, turns: Any) -> None:
        super().__init__()
        self._turns = turns
        self._pending: List[Dict[str, Any]] = []
        self._last_added = 0.0
        self._sender: Optional[asyncio.Future] = None

    @classmethod
    def name(cls) -> Text:
        return "wechat"

    async def _persist_message(self, message: Dict[str, Any]) -> None:
        self.messages.append(message)
        self._pending.append(message)
        self._last_added = asyncio.get_running_loop().time()
        if self._sender is None:
            self._sender = self._turns.spawn(self._send_when_quiet())

    async def _send_when_quiet(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            wait = min(self._last_added + QUIET_SECONDS, started + MAX_GATHER_SECONDS) - loop.time()
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        batch, self._pending, self._sender = self._pending, [], None
        recipients: Dict[str, List[Dict[str, Any]]] = {}
        for message in batch:
            recipients.setdefault(message["recipient_id"], []).append(message)
        for openid, messages in recipients.items():
            text = await self._turns.present(openid, messages)
            if text:
                await self._turns.deliver(openid, text)
