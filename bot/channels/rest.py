"""The REST channel (POST /webhooks/rest/webhook), with clear answers to bad
input and to failures.

Rasa's own RestInput answers a malformed body with a 500 (a JSON list or a
number as the body, a non-string message) and a turn that failed (tracker
store or lock store down) with `200 []`, indistinguishable from "the bot had
nothing to say". This one keeps its URL and its reply format
(`[{"recipient_id", "text", "buttons"...}]`) and answers:

- 400 `invalid_request` with the reason for a body that is not
  `{"sender": str, "message": str, "metadata": object?}`;
- 413 `message_too_long` past MAX_MESSAGE_CHARS (sanic refuses bodies past
  Rasa's request limit before we see them);
- 503 `unavailable` when the turn failed: the message was not processed and
  may be sent again (nothing of it was stored: a tracker store failure fails
  the turn, see bot/rasa_ext/bootstrap.py).

The sender is trusted as Rasa's is, so only callers that present the shared
secret (`REST_CHANNEL_SECRET` in the `X-Helpdesk-Rest-Secret` header,
bot/core/service_auth.py) are served: the web process (bot/web), which issues
signed session ids for browsers, the tests and the benchmarks. Anyone else
gets 401 before the body is looked at; with no secret configured, 503.
"""
from __future__ import annotations

import logging
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.core.message_ids import ends_conversation, stamp
from bot.core.service_auth import REST_SECRET_HEADER, presents
from bot.rasa_ext import bootstrap
from bot.text import is_clean_text

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 5000
MAX_SENDER_CHARS = 256


class StampingCollector(CollectingOutputChannel):
    """Each message carries the `id` and `at` its bot event has in the
    conversation's history (bot/core/message_ids.py: from the event's
    timestamp, which Rasa puts in the message it sends), and `end` when it is
    a goodbye: the web process can have a turn's answer rated without reading
    the conversation back. A text Rasa splits at blank lines is several
    messages: the id goes on the last (one answer, rated once)."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: Dict[str, int] = {}

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        first = len(self.messages)
        ids = stamp(message.get("timestamp"), "bot", self._seen)
        end = ends_conversation(message.get("utter_action"))
        await super().send_response(recipient_id, message)
        sent = self.messages[first:]
        for part in sent:
            if "at" in ids:
                part["at"] = ids["at"]
        if sent and ids:
            sent[-1].update({"id": ids["id"], **end})


def _error(status: int, code: str, message: str) -> HTTPResponse:
    return response.json({"error": {"code": code, "message": message}}, status=status)


def parse_body(request: Request) -> Dict[str, Any]:
    """The checked body; ValueError(code, message, status) when it is not acceptable."""
    if not request.body:
        raise ValueError("invalid_json", 'The body is empty: send {"sender": ..., "message": ...}.', 400)
    try:
        body = request.json
    except Exception:  # sanic raises its own InvalidUsage for broken JSON / UTF-8
        raise ValueError("invalid_json", "The body is not valid JSON.", 400) from None
    if not isinstance(body, dict):
        raise ValueError("invalid_request", 'The body must be a JSON object {"sender": ..., "message": ...}.', 400)
    sender, message, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS \
            or not is_clean_text(sender):
        raise ValueError("invalid_request", f'"sender" must be text of 1 to {MAX_SENDER_CHARS} characters.', 400)
    if not isinstance(message, str) or not is_clean_text(message):
        raise ValueError("invalid_request", '"message" must be text (no NUL or lone surrogate characters).', 400)
    if len(message) > MAX_MESSAGE_CHARS:
        raise ValueError("message_too_long", f"A message has at most {MAX_MESSAGE_CHARS} characters.", 413)
    if metadata is not None and not isinstance(metadata, dict):
        raise ValueError("invalid_request", '"metadata" must be a JSON object.', 400)
    return {"sender": sender, "message": message, "metadata": metadata}


class RestInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "RestInput":
        bootstrap.install()  # Rasa may load this channel first of our plug-ins
        return cls(str((credentials or {}).get("secret") or ""))

    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        if not secret:
            log.error("REST_CHANNEL_SECRET is empty, so the REST channel refuses every request")

    def _refusal(self, request: Request) -> Optional[HTTPResponse]:
        if not self.secret:
            return _error(503, "not_configured", "The REST channel has no secret configured (REST_CHANNEL_SECRET).")
        if not presents(request.headers, REST_SECRET_HEADER, self.secret):
            return _error(401, "unauthorized", f"This channel is for the helpdesk's own processes: "
                                               f"present the shared secret in {REST_SECRET_HEADER}.")
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("helpdesk_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            refusal = self._refusal(request)
            if refusal:
                return refusal
            try:
                body = parse_body(request)
            except ValueError as refusal:
                code, message, status = refusal.args
                return _error(status, code, message)
            collector = StampingCollector()
            try:
                await on_new_message(UserMessage(
                    body["message"], collector, body["sender"], input_channel=self.name(), metadata=body["metadata"],
                ))
            except CancelledError:  # the client went away: nothing to answer
                raise
            except Exception as error:  # the store, the lock or the model failed: say so
                log.error("turn failed: %s", type(error).__name__)
                return _error(503, "unavailable", "The assistant cannot answer right now; "
                                                  "the message was not processed, please send it again.")
            return response.json(collector.messages)

        return webhook
