"""The widget's routes: a signed session, a turn, the history.

    POST /api/chat/sessions                      -> 201 {"session": "<id>.<signature>"}
    GET  /api/chat/history   X-Chat-Session      -> {"messages": [{"from", "text", "buttons"}]}
    POST /api/chat/messages  X-Chat-Session, {"message": "..."} -> {"messages": [{"text", "buttons"}]}

A missing, malformed or forged session id is 403; a session sending faster
than a person types (bot/web/rate_limit.py) gets 429 with Retry-After. The
message is never logged.
"""
from __future__ import annotations

import logging

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.web.config import MAX_MESSAGE_CHARS
from bot.web.http import WebError, json_body, json_response, text_field
from bot.web.rasa_client import RasaClient, RasaUnavailable
from bot.web.rate_limit import RateLimit
from bot.web.sessions import ChatSessions

log = logging.getLogger("bot.web.chat")

SESSION_HEADER = "X-Chat-Session"


def unavailable() -> WebError:
    return WebError(503, "assistant_unavailable", "The assistant is unavailable at the moment; try again shortly.",
                    {"Retry-After": "5"})


def add_chat_routes(app: Sanic, sessions: ChatSessions, rasa: RasaClient, limit: RateLimit = None) -> None:
    limit = limit or RateLimit()

    def sender_of(request: Request) -> str:
        sender = sessions.sender(request.headers.get(SESSION_HEADER))
        if sender is None:
            raise WebError(403, "invalid_session", "This chat session is not valid; start a new one.")
        return sender

    @app.post("/api/chat/sessions")
    async def new_session(request: Request) -> HTTPResponse:
        return json_response({"session": sessions.issue()}, status=201)

    @app.get("/api/chat/history")
    async def history(request: Request) -> HTTPResponse:
        sender = sender_of(request)
        try:
            messages = await rasa.history(sender)
        except RasaUnavailable:
            raise unavailable() from None
        return json_response({"messages": messages})

    @app.post("/api/chat/messages")
    async def send(request: Request) -> HTTPResponse:
        sender = sender_of(request)
        message = text_field(json_body(request), "message", MAX_MESSAGE_CHARS)
        wait = limit.wait(sender)
        if wait is not None:
            raise WebError(429, "too_many_messages", "Too many messages in a short time; wait a moment.",
                           {"Retry-After": str(max(1, round(wait)))})
        try:
            replies = await rasa.send(sender, message)
        except RasaUnavailable:
            raise unavailable() from None
        log.info("chat turn: %d characters in, %d messages out", len(message), len(replies))
        return json_response({"messages": replies})
