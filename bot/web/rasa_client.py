"""The Rasa server as the web process uses it: the REST channel for a turn,
the tracker for a conversation's history, /model/parse for the staff lookup.

The auth token stays here (server side). Any failure to reach Rasa or make
sense of its answer is RasaUnavailable; the routes turn it into a 503.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

import httpx

from bot.core.service_auth import REST_SECRET_HEADER, bearer_header
from bot.core.settings import resolved

log = logging.getLogger("bot.web.rasa")


class RasaUnavailable(Exception):
    """Rasa could not be reached, timed out, or answered with an error."""


def _message(text: Optional[str], buttons: Any) -> Dict[str, Any]:
    clean = []
    for button in buttons or []:
        if isinstance(button, dict) and isinstance(button.get("title"), str) and isinstance(button.get("payload"), str):
            clean.append({"title": button["title"], "payload": button["payload"]})
    return {"text": text if isinstance(text, str) else "", "buttons": clean}


def history_from_events(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The user and bot messages of a tracker's events, oldest first, as the
    conversation went: a user message that is a button's payload shows as
    that button's title (as the widget showed it when it was clicked), and a
    `rewind` (the two-stage fallback takes back the last user message, then
    Rasa replays it) removes that message and what followed it."""
    messages: List[Dict[str, Any]] = []
    buttons_before: List[List[Dict[str, str]]] = []  # the buttons on offer when each message came
    last_buttons: List[Dict[str, str]] = []
    for event in events or []:
        kind = event.get("event")
        if kind == "user" and isinstance(event.get("text"), str):
            text = event["text"]
            shown = next((b["title"] for b in last_buttons if b["payload"] == text), text)
            messages.append({"from": "user", "text": shown, "buttons": []})
            buttons_before.append(last_buttons)
            last_buttons = []
        elif kind == "bot":
            message = _message(event.get("text"), (event.get("data") or {}).get("buttons"))
            if message["text"] or message["buttons"]:
                messages.append({"from": "bot", **message})
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

    async def _call(self, method: str, path: str, *, json: Any = None, authenticated: bool = False) -> Any:
        # The API token as a header: a query string would land in proxies' logs.
        headers = bearer_header(self.token) if authenticated else None
        try:
            response = await self.client.request(method, path, json=json, headers=headers)
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

    async def send(self, sender: str, text: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        """One turn on the REST channel (metadata reaches the actions): the bot's messages."""
        body = {"sender": sender, "message": text, **({"metadata": metadata} if metadata else {})}
        answer = await self._call("POST", "/webhooks/rest/webhook", json=body)
        if not isinstance(answer, list):
            raise RasaUnavailable("unexpected answer")
        return [_message(m.get("text"), m.get("buttons")) for m in answer if isinstance(m, dict)]

    async def history(self, sender: str) -> List[Dict[str, Any]]:
        answer = await self._call("GET", f"/conversations/{sender}/tracker", authenticated=True)
        if not isinstance(answer, dict):
            raise RasaUnavailable("unexpected answer")
        return history_from_events(answer.get("events") or [])

    async def parse(self, text: str) -> Dict[str, Any]:
        answer = await self._call("POST", "/model/parse", json={"text": text}, authenticated=True)
        if not isinstance(answer, dict):
            raise RasaUnavailable("unexpected answer")
        return answer

    async def close(self) -> None:
        await self.client.aclose()
