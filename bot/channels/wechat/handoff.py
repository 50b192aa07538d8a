"""Is a person holding this follower's conversation? (issue 12, live hand-over)

The card backend owns every hand-over's state (/v1/handoffs). Asking it on
every message would cost each FAQ turn a request, so the channel asks only for
a follower who had a live hand-over lately: the hand-over action's reply
carries the custom payload `{"handoff": {"id", "status": "waiting", ...}}`, and
seeing it (in a turn's answer or in what the output channel sends) marks the
follower in the channel state for 24 hours (HANDOFF_TTL_SECONDS). A marked
follower's message is first looked up (`POST /v1/handoffs/lookup`): a live
ticket that is waiting or claimed holds the conversation; none (404) clears the
marker.

The backend out of reach: the message goes to the assistant as an ordinary
turn (logged). A person may then see the assistant answer a message meant for
them, in the transcript; the other way round, a follower whose hand-over is
long over would get no answer at all.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Iterable, Optional

from bot.channels.wechat.state import ChannelState, hashed
from bot.handoff.client import HandoffConflict, HandoffUnavailable

logger = logging.getLogger(__name__)

HELD_STATUSES = frozenset({"waiting", "claimed"})
# The intent the assistant speaks on when the follower leaves the person (entity `by`: citizen).
RELEASED_INTENT = "EXTERNAL_handoff_released"


def handoff_payload(message: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The `{"handoff": {...}}` custom payload of one of the assistant's messages, if it has one."""
    custom = message.get("custom")
    handoff = custom.get("handoff") if isinstance(custom, dict) else None
    return handoff if isinstance(handoff, dict) else None


def is_held(view: Optional[Dict[str, Any]]) -> bool:
    """A hand-over that holds its conversation: live, waiting or claimed."""
    return bool(view) and view.get("mode", "live") == "live" and view.get("status") in HELD_STATUSES


class HeldConversations:
    """The marker in the channel state and the backend's word on it.

    `client` is a bot.handoff.client.HandoffClient (or a stand-in with the
    same `lookup`, None for no held hand-over, and `release`)."""

    def __init__(self, state: ChannelState, client: Any) -> None:
        self.state = state
        self.client = client

    async def remember(self, openid: str, messages: Iterable[Dict[str, Any]]) -> None:
        """Marks the follower when the assistant's messages speak of a live hand-over
        still going on (a call-back ticket holds nothing: the assistant goes on)."""
        if any(is_held(payload) for payload in filter(None, (handoff_payload(m) for m in messages))):
            await self.state.mark_handoff(openid)

    async def held(self, openid: str) -> Optional[Dict[str, Any]]:
        """The hand-over holding the follower's conversation (the backend's view), else None."""
        if not await self.state.handoff_marked(openid):
            return None
        try:
            view = await self.client.lookup(openid)
        except HandoffUnavailable as error:
            logger.warning("wechat: hand-over of user %s not looked up (%s); the assistant answers",
                           hashed(openid)[:12], type(error).__name__)
            return None
        if not is_held(view):
            await self.state.forget_handoff(openid)
            return None
        return view

    async def release_by_citizen(self, openid: str, view: Dict[str, Any]) -> bool:
        """Hands the conversation back to the assistant at the follower's word; False
        when the backend had closed it already. HandoffUnavailable when the backend
        cannot be reached (the follower is asked to try again: the turn failed)."""
        try:
            await self.client.release(view["id"], to="bot", by="citizen")
        except HandoffConflict:  # closed meanwhile (staff closed it, or the citizen's other message)
            await self.state.forget_handoff(openid)
            return False
        await self.state.forget_handoff(openid)
        return True
