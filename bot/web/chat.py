"""The widget's routes: a signed session, a turn, the history.

    POST   /api/chat/sessions                    -> 201 {"session": "<id>", "idle_seconds": n}
    DELETE /api/chat/sessions    X-Chat-Session  -> {"ended": true} ("new chat": the id is refused from now on)
    GET    /api/chat/history     X-Chat-Session  -> {"messages": [{"from", "text", "buttons"}], "session"}
    POST   /api/chat/messages    X-Chat-Session, {"message": "..."} -> {"messages": [{"text", "buttons"}], "session"}

Every answer carries the session id re-signed as used now (bot/web/sessions.py:
a session unused for CHAT_IDLE_MINUTES is over); the widget keeps the latest.
A missing, malformed, forged, idle or ended session id is 403. Too many new
sessions or turns from one address, or turns from one session
(bot/web/rate_limit.py), get 429 with Retry-After. The message is never
logged. Each turn tells Rasa a keyed hash of the client's address (message
metadata `client`), by which the backend limits hand-offs per address.
"""
from __future__ import annotations

import logging

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.web.config import MAX_MESSAGE_CHARS
from bot.web.http import WebError, client_address, json_body, json_response, text_field
from bot.web.rasa_client import RasaClient, RasaUnavailable
from bot.web.rate_limit import ADDRESS_TURNS, NEW_SESSIONS, SESSION_TURNS, Limiter
from bot.web.sessions import EXPIRED, SENDER_PREFIX, ChatSessions

log = logging.getLogger("bot.web.chat")

SESSION_HEADER = "X-Chat-Session"
_MESSAGES = {
    "invalid_session": "This chat session is not valid; start a new one.",
    "session_expired": "This chat session has ended after a time without use; start a new one.",
    "session_ended": "This chat session has ended; start a new one.",
}


def unavailable() -> WebError:
    return WebError(503, "assistant_unavailable", "The assistant is unavailable at the moment; try again shortly.",
                    {"Retry-After": "5"})


def refused(code: str) -> WebError:
    return WebError(403, code, _MESSAGES[code])


def add_chat_routes(app: Sanic, sessions: ChatSessions, rasa: RasaClient, limiter: Limiter) -> None:
    state = limiter.state

    def ended_key(nonce: str) -> str:
        return "ended:" + limiter.opaque("session:" + nonce)

    async def nonce_of(request: Request) -> str:
        nonce, problem = sessions.check(request.headers.get(SESSION_HEADER))
        if nonce is None:
            raise refused(problem)
        if await state.marked(ended_key(nonce)):
            raise refused("session_ended")
        return nonce

    @app.post("/api/chat/sessions")
    async def new_session(request: Request) -> HTTPResponse:
        await limiter.check(NEW_SESSIONS, client_address(request))
        return json_response({"session": sessions.issue(), "idle_seconds": sessions.idle_seconds}, status=201)

    @app.delete("/api/chat/sessions")
    async def end_session(request: Request) -> HTTPResponse:
        nonce, problem = sessions.check(request.headers.get(SESSION_HEADER))
        if nonce is None and problem != EXPIRED:
            raise refused(problem)
        if nonce is not None:  # an idle one is over already
            await state.mark(ended_key(nonce), sessions.idle_seconds + 60)
        return json_response({"ended": True})

    @app.get("/api/chat/history")
    async def history(request: Request) -> HTTPResponse:
        nonce = await nonce_of(request)
        try:
            messages = await rasa.history(SENDER_PREFIX + nonce)
        except RasaUnavailable:
            raise unavailable() from None
        return json_response({"messages": messages, "session": sessions.issue(nonce)})

    @app.post("/api/chat/messages")
    async def send(request: Request) -> HTTPResponse:
        nonce = await nonce_of(request)
        message = text_field(json_body(request), "message", MAX_MESSAGE_CHARS)
        address = client_address(request)
        await limiter.check(SESSION_TURNS, nonce)
        await limiter.check(ADDRESS_TURNS, address)
        try:
            replies = await rasa.send(SENDER_PREFIX + nonce, message,
                                      metadata={"client": limiter.opaque("client:" + address)})
        except RasaUnavailable:
            raise unavailable() from None
        log.info("chat turn: %d characters in, %d messages out", len(message), len(replies))
        return json_response({"messages": replies, "session": sessions.issue(nonce)})
