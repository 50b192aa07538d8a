"""What the web process knows of a conversation's hand-over to a person
(issue 12), shared by the chat routes, the staff routes and the expiry sweep.

- The state of every hand-over is the card backend's (bot/handoff/client.py).
  So that an ordinary turn costs no backend call, the backend is asked only
  about a conversation that has had a live hand-over: the turn that opened
  one carried the custom payload `{"handoff": {...}}`, and `remember` marks
  the conversation for a day in the shared state (Redis in the cluster).
- Each conversation has a version counter in the shared state, bumped by
  whoever appends to it (the citizen's message to staff, a staff message, a
  claim, a release, a time-out); the widget's long poll watches it, whichever
  web process it reaches.
- What the citizen sees of a hand-over: `{"id", "status", "position",
  "staff"}` with the member of staff's name masked (`staff_display_name`).

Keys in the shared state are keyed hashes of the sender id, never the id.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Optional

from bot.core.opaque import conversation_key
from bot.handoff.client import HandoffClient, HandoffUnavailable
from bot.web.rasa_client import REST_CHANNEL

log = logging.getLogger("bot.web.handoff")

REMEMBER_SECONDS = 24 * 60 * 60  # a conversation that had a hand-over is looked up for a day
HELD = ("waiting", "claimed")  # a live ticket in these holds its conversation: the bot is silent
WECHAT = "wechat"
WEB = "web"
CLAIMED = "claimed"
LIVE = "live"


def staff_display_name(name: str) -> str:
    """What a citizen is told of a member of staff (their display name, else
    their username): the first character and `**` (王** / c**)."""
    name = (name or "").strip()
    return name[:1] + "**" if name else "**"


def output_channel(channel: Optional[str]) -> str:
    """The Rasa channel a conversation's bot messages go out on: WeChat's
    own, or the REST channel (the web: the widget reads the tracker)."""
    return WECHAT if channel == WECHAT else REST_CHANNEL


def public_channel(channel: Optional[str]) -> Optional[str]:
    """A ticket's channel as the staff API names it: "web" for the REST
    channel the web process talks through, "wechat"."""
    return WEB if channel in (REST_CHANNEL, WEB) else channel


def citizen_view(handoff: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The `handoff` field of a chat answer: null, or the held ticket's id,
    status, place in the queue and the masked name of whoever claimed it."""
    if not isinstance(handoff, dict) or handoff.get("status") not in HELD or handoff.get("mode", LIVE) != LIVE:
        return None  # none, over, or a call-back (the bot answers meanwhile)
    staff = None
    if handoff.get("status") == CLAIMED:
        staff = handoff.get("staff") or staff_display_name(handoff.get("staff_name") or handoff.get("claimed_by") or "")
    position = handoff.get("position")
    return {"id": handoff.get("id"), "status": handoff["status"],
            "position": position if handoff["status"] != CLAIMED and isinstance(position, int) else None,
            "staff": staff}


def opened_live(payload: Optional[Dict[str, Any]]) -> bool:
    """A turn's custom payload says a live hand-over is open for the
    conversation (its status: waiting or claimed, "open" in the backend's
    older word); what it is now, the backend says."""
    return isinstance(payload, dict) and payload.get("mode", LIVE) == LIVE \
        and payload.get("status") in (*HELD, "open")


class HandoffState:
    def __init__(self, client: HandoffClient, state: Any, opaque: Callable[[str], str]) -> None:
        self.client, self.state, self._opaque = client, state, opaque

    def _key(self, kind: str, sender: str) -> str:
        return f"handoff-{kind}:" + conversation_key(self._opaque, sender)

    async def remember(self, sender: str) -> None:
        """From now on (for a day) this conversation's messages are checked against the backend."""
        await self.state.mark(self._key("marked", sender), REMEMBER_SECONDS)

    async def held(self, sender: str) -> Optional[Dict[str, Any]]:
        """The backend's view of the live ticket (waiting or claimed) holding
        this conversation; None when none does, or the backend cannot say
        (the bot then answers: a person cannot take over without the backend)."""
        if not await self.state.marked(self._key("marked", sender)):
            return None
        try:
            view = await self.client.lookup(sender)
        except HandoffUnavailable:
            log.warning("backend unavailable to look up a hand-over: the bot answers")
            return None
        return view if citizen_view(view) is not None else None

    async def bump(self, sender: str) -> int:
        """Something was appended to the conversation: long polls waiting on it answer."""
        return await self.state.bump(self._key("version", sender))

    async def version(self, sender: str) -> int:
        return await self.state.version(self._key("version", sender))
