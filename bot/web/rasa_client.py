"""The Rasa server as the web process uses it: the REST channel for a turn,
the tracker for a conversation's history, /model/parse for the staff lookup,
and for a hand-over to a person (issue 12): events appended to a tracker
(a citizen's message while a person holds the conversation, a staff message)
and an intent triggered from outside (EXTERNAL_handoff_*: the bot says what
changed, in the conversation's language).

A turn's reply may carry a custom payload `{"handoff": {"id", "status",
"position"}}` (action_human_handoff): it is never shown; `Reply.handoff`
hands it to the caller.

The auth token stays here (server side). Any failure to reach Rasa or make
sense of its answer is RasaUnavailable; the routes turn it into a 503.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Optional
from urllib.parse import quote

import httpx

from bot.core.message_ids import ends_conversation, stamp
from bot.core.service_auth import REST_SECRET_HEADER, bearer_header
from bot.core.settings import resolved

log = logging.getLogger("bot.web.rasa")


REST_CHANNEL = "rest"  # the REST channel's name (bot/channels/rest.py), the web's conversations' channel


class RasaUnavailable(Exception):
    """Rasa could not be reached, timed out, or answered with an error."""


class WeChatRefused(Exception):
    """WeChat's customer-service API refused a staff message (errcode, a plain message for staff)."""

    def __init__(self, errcode: Any, message: str) -> None:
        super().__init__(f"wechat errcode {errcode}")
        self.errcode, self.message = errcode, message


WECHAT_REFUSED_MESSAGE = "WeChat did not deliver the message."
WECHAT_STAFF_MESSAGE_PATH = "/webhooks/wechat/staff-message"  # the WeChat channel's route (bot/channels/wechat)


def _path(sender: str) -> str:
    """A sender id as one path segment (a WeChat openid may hold `-` and `_`, never `/`)."""
    return quote(sender, safe="")


def _message(text: Optional[str], buttons: Any) -> Dict[str, Any]:
    clean = []
    for button in buttons or []:
        if isinstance(button, dict) and isinstance(button.get("title"), str) and isinstance(button.get("payload"), str):
            clean.append({"title": button["title"], "payload": button["payload"]})
    return {"text": text if isinstance(text, str) else "", "buttons": clean}


@dataclass(frozen=True)
class Reply:
    """What the bot said (shown to the user) and the hand-over state its
    custom payload carried, if any (never shown)."""
    messages: List[Dict[str, Any]]
    handoff: Optional[Dict[str, Any]] = None


def reply_from_messages(answer: Any) -> Reply:
    """The REST channel's (or a triggered intent's) messages: text and buttons
    for the user; a custom `{"handoff": {...}}` taken out."""
    if not isinstance(answer, list):
        raise RasaUnavailable("unexpected answer")
    messages, handoff = [], None
    for m in answer:
        if not isinstance(m, dict):
            continue
        custom = m.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("handoff"), dict):
            handoff = custom["handoff"]
        message = _message(m.get("text"), m.get("buttons"))
        # The REST channel's id, time and end mark (bot/channels/rest.py): rated at once.
        message.update({k: m[k] for k in ("id", "at") if isinstance(m.get(k), str)})
        if m.get("end") is True:
            message["end"] = True
        if message["text"] or message["buttons"] or not custom:
            messages.append(message)
    return Reply(messages, handoff)


STAFF = "staff"  # metadata.from of a bot event a member of staff wrote (bot/web/staff/handoffs.py)


def staff_metadata(display_name: str) -> Dict[str, str]:
    """The metadata of a staff message's bot event: who wrote it, masked."""
    return {"from": STAFF, "staff": display_name}


def _stamp(event: Dict[str, Any], kind: str, seen: Dict[str, int]) -> Dict[str, str]:
    return stamp(event.get("timestamp"), kind, seen)


def _is_external(event: Dict[str, Any]) -> bool:
    """A user event Rasa's trigger_intent made (its text is "EXTERNAL: <intent>")."""
    metadata = event.get("metadata")
    return isinstance(metadata, dict) and metadata.get("is_external") is True


def history_from_events(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The user and bot messages of a tracker's events, oldest first, as the
    conversation went: a user message that is a button's payload shows as
    that button's title (as the widget showed it when it was clicked), and a
    `rewind` (the two-stage fallback takes back the last user message, then
    Rasa replays it) removes that message and what followed it; an intent
    triggered from outside (a hand-over's status change) is no message. A bot event
    written by a member of staff (metadata `from: staff`) is `{"from": "staff",
    "staff": "<masked name>", ...}`; a bot message of one of bot.core.message_ids.ENDING_RESPONSES
    has `"end": true`. Each message has `at` (ISO-8601 UTC) and an `id` that
    stays the same across calls (from the event's timestamp), by which a
    client tells messages it has from new ones (and rates the bot's)."""
    messages: List[Dict[str, Any]] = []
    buttons_before: List[List[Dict[str, str]]] = []  # the buttons on offer when each message came
    last_buttons: List[Dict[str, str]] = []
    seen: Dict[str, int] = {}
    for event in events or []:
        kind = event.get("event")
        if kind == "user" and _is_external(event):
            continue  # an intent triggered from outside (EXTERNAL_handoff_*): nobody said it
        if kind == "user" and isinstance(event.get("text"), str):
            text = event["text"]
            shown = next((b["title"] for b in last_buttons if b["payload"] == text), text)
            messages.append({"from": "user", "text": shown, "buttons": [], **_stamp(event, "user", seen)})
            buttons_before.append(last_buttons)
            last_buttons = []
        elif kind == "bot":
            message = _message(event.get("text"), (event.get("data") or {}).get("buttons"))
            metadata = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
            if metadata.get("from") == STAFF and message["text"]:
                staff = metadata.get("staff") if isinstance(metadata.get("staff"), str) else ""
                messages.append({"from": STAFF, "staff": staff, "text": message["text"], "buttons": [],
                                 **_stamp(event, "bot", seen)})
                buttons_before.append(last_buttons)
            elif message["text"] or message["buttons"]:
                messages.append({"from": "bot", **message, **_stamp(event, "bot", seen),
                                 **ends_conversation(metadata.get("utter_action"))})
                buttons_before.append(last_buttons)
                last_buttons = message["buttons"] or last_buttons
        elif kind == "rewind":
            while messages:
                removed = messages.pop()
                last_buttons = buttons_before.pop()
                if removed["from"] == "user":
                    break
    return messages


class RasaClient:
    def __init__(self, base_url: str, token: str, timeout: float) -> None:
        self.base_url = base_url
        self.token = token
        # The REST channel serves only callers with its shared secret.
        self.client = httpx.AsyncClient(base_url=base_url, timeout=timeout,
                                        headers={REST_SECRET_HEADER: resolved()["REST_CHANNEL_SECRET"]})

    async def _call(self, method: str, path: str, *, json: Any = None, authenticated: bool = False,
                    params: Optional[Dict[str, str]] = None) -> Any:
        # The API token as a header: a query string would land in proxies' logs.
        headers = bearer_header(self.token) if authenticated else None
        try:
            response = await self.client.request(method, path, json=json, headers=headers, params=params)
        except httpx.HTTPError as error:
            log.warning("rasa %s %s: %s", method, path.split("/")[1], type(error).__name__)
            raise RasaUnavailable(type(error).__name__) from None
        if response.status_code != 200:
            log.warning("rasa %s %s answered %s", method, path.split("/")[1], response.status_code)
            raise RasaUnavailable(f"HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise RasaUnavailable("not JSON") from None

    async def send(self, sender: str, text: str, metadata: Optional[Dict[str, Any]] = None) -> Reply:
        """One turn on the REST channel (metadata reaches the actions): the bot's messages."""
        body = {"sender": sender, "message": text, **({"metadata": metadata} if metadata else {})}
        return reply_from_messages(await self._call("POST", "/webhooks/rest/webhook", json=body))

    async def events(self, sender: str) -> List[Dict[str, Any]]:
        """The conversation's events as the tracker store keeps them (redacted)."""
        answer = await self._call("GET", f"/conversations/{_path(sender)}/tracker", authenticated=True)
        if not isinstance(answer, dict):
            raise RasaUnavailable("unexpected answer")
        events = answer.get("events") or []
        return [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []

    async def history(self, sender: str) -> List[Dict[str, Any]]:
        return history_from_events(await self.events(sender))

    async def append_events(self, sender: str, events: List[Dict[str, Any]]) -> None:
        """Appends events to the conversation's tracker, with no side effects
        (nothing is sent to any channel, no action runs): a citizen's message
        that goes to a member of staff, a staff message. The tracker store
        redacts them as every other event."""
        await self._call("POST", f"/conversations/{_path(sender)}/tracker/events", json=events,
                         authenticated=True, params={"include_events": "NONE"})

    async def trigger_intent(self, sender: str, name: str, entities: Optional[Dict[str, Any]] = None,
                             output_channel: str = REST_CHANNEL) -> Reply:
        """Runs the dialogue on an intent from outside (EXTERNAL_handoff_*): the
        bot's messages go out on `output_channel` (WeChat sends them itself;
        the REST channel's are in the tracker, and returned here)."""
        answer = await self._call("POST", f"/conversations/{_path(sender)}/trigger_intent",
                                  json={"name": name, "entities": entities or {}}, authenticated=True,
                                  params={"output_channel": output_channel, "include_events": "NONE"})
        if not isinstance(answer, dict):
            raise RasaUnavailable("unexpected answer")
        return reply_from_messages(answer.get("messages") or [])

    async def send_wechat_staff_message(self, openid: str, text: str) -> None:
        """A staff message to a WeChat follower, through the WeChat channel's
        customer-service API (with the REST channel's secret). WeChatRefused
        with WeChat's errcode (e.g. 45015: more than 48 hours since the
        follower's last message) and the channel's plain message for staff."""
        try:
            response = await self.client.post(WECHAT_STAFF_MESSAGE_PATH, json={"openid": openid, "text": text})
        except httpx.HTTPError as error:
            log.warning("rasa wechat staff message: %s", type(error).__name__)
            raise RasaUnavailable(type(error).__name__) from None
        if response.status_code == 200:
            return
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            error = None
        if response.status_code == 502 and isinstance(error, dict) and error.get("code") == "wechat_refused":
            message = error.get("message")
            raise WeChatRefused(error.get("errcode"), message if isinstance(message, str) and message
                                else WECHAT_REFUSED_MESSAGE)
        log.warning("rasa wechat staff message answered %s", response.status_code)
        raise RasaUnavailable(f"HTTP {response.status_code}")

    async def parse(self, text: str) -> Dict[str, Any]:
        answer = await self._call("POST", "/model/parse", json={"text": text}, authenticated=True)
        if not isinstance(answer, dict):
            raise RasaUnavailable("unexpected answer")
        return answer

    async def close(self) -> None:
        await self.client.aclose()
