"""The widget's routes: a signed session, a turn, the history.

    POST   /api/chat/sessions                    -> 201 {"session": "<id>", "idle_seconds": n}
    DELETE /api/chat/sessions    X-Chat-Session  -> {"ended": true} ("new chat": the id is refused from now on)
    GET    /api/chat/history     X-Chat-Session  -> {"messages": [{"from", "text", "buttons", "at", "id"}],
                                                     "handoff", "session"}
    POST   /api/chat/messages    X-Chat-Session, {"message": "..."} -> {"messages": [{"text", "buttons"}],
                                                     "handoff", "session"}
    GET    /api/chat/updates?after=<n>  X-Chat-Session -> {"messages": [after the n-th], "count", "handoff",
                                                     "session"} (a long poll: answers when the conversation
                                                     changes, or after LONG_POLL_SECONDS)
    POST   /api/chat/feedback    X-Chat-Session, {"message_id", "rating": "up"|"down"} -> 201 {"rated": true}
    POST   /api/chat/rating      X-Chat-Session, {"score": 1..5, "comment"?} -> 201 {"rated": true}
                                                     (also with a session "new chat" ended: it is asked then)

Every answer carries the session id re-signed as used now (bot/web/sessions.py:
a session unused for CHAT_IDLE_MINUTES is over); the widget keeps the latest.
A missing, malformed, forged, idle or ended session id is 403. Too many new
sessions or turns from one address, or turns from one session
(bot/web/rate_limit.py), get 429 with Retry-After. The message is never
logged. Each turn tells Rasa a keyed hash of the client's address (message
metadata `client`), by which the backend limits hand-offs per address.

A conversation held by a person (a live hand-over waiting or claimed,
bot/web/handoff_state.py) is routed here, not by Rasa: the citizen's message
is appended to the tracker as a user event (staff read it in the transcript)
and the bot says nothing; a whole message asking to leave (bot/handoff/leave.py)
releases the hand-over and Rasa says so (EXTERNAL_handoff_released). Every
answer carries `handoff`: null, or `{"id", "status", "position", "staff"}`.

Ratings (bot/web/ratings.py): a turn's bot messages carry the `id` (and `end`)
they have in the history (the REST channel stamps them: bot/core/message_ids.py),
by which the widget rates them; the history says what was rated (`feedback`, `rated`).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Optional

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff.client import HandoffConflict, HandoffUnavailable
from bot.handoff.leave import asks_to_leave_handoff
from bot.web.config import LONG_POLL_CHECK_SECONDS, LONG_POLL_SECONDS, MAX_MESSAGE_CHARS
from bot.web.handoff_state import HandoffState, citizen_view, opened_live
from bot.web.http import WebError, client_address, json_body, json_response, text_field
from bot.web.rasa_client import REST_CHANNEL, RasaClient, RasaUnavailable
from bot.web.ratings import Ratings, feedback_of, rated_message, rating_of
from bot.web.rate_limit import ADDRESS_TURNS, NEW_SESSIONS, SESSION_POLLS, SESSION_TURNS, Limiter
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


def updates_after(request: Request) -> int:
    """The `after` query parameter (how many messages the widget has): 0 when absent."""
    for name in request.args:
        if name != "after":
            raise WebError(422, "invalid_request", f"Unknown parameter `{str(name)[:40]}`.")
    values = request.args.getlist("after") or ["0"]
    if len(values) != 1 or not values[0].isascii() or not values[0].isdigit() or len(values[0]) > 6:
        raise WebError(422, "invalid_request", "`after` is the number of messages the widget has (0 or more).")
    return int(values[0])


def add_chat_routes(app: Sanic, sessions: ChatSessions, rasa: RasaClient, limiter: Limiter,
                    handoffs: HandoffState, ratings: Ratings) -> None:
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
        sender = SENDER_PREFIX + nonce
        try:
            messages = await rasa.history(sender)
        except RasaUnavailable:
            raise unavailable() from None
        return json_response({"messages": messages, "handoff": citizen_view(await handoffs.held(sender)),
                              **await ratings.given(sender), "session": sessions.issue(nonce)})

    @app.get("/api/chat/updates")
    async def updates(request: Request) -> HTTPResponse:
        """A long poll: the messages after the widget's `after` first ones, as
        soon as the conversation has any (at once if it has already), or when
        it changes (a claim, a release), else after LONG_POLL_SECONDS. A poll
        is not a use of the session: its id comes back as it was sent (an
        open widget alone does not keep a kiosk's session alive)."""
        nonce = await nonce_of(request)
        after = updates_after(request)
        await limiter.check(SESSION_POLLS, nonce)
        sender = SENDER_PREFIX + nonce
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LONG_POLL_SECONDS
        try:
            version = await handoffs.version(sender)
            messages = await rasa.history(sender)
            while len(messages) == after and loop.time() < deadline:
                await asyncio.sleep(LONG_POLL_CHECK_SECONDS)
                if await handoffs.version(sender) != version:
                    messages = await rasa.history(sender)
                    break
        except RasaUnavailable:
            raise unavailable() from None
        return json_response({"messages": messages[after:], "count": len(messages),
                              "handoff": citizen_view(await handoffs.held(sender)),
                              "session": request.headers.get(SESSION_HEADER)})

    async def to_staff(sender: str, message: str, held: Dict[str, Any], client: str) -> Optional[Dict[str, Any]]:
        """A message in a held conversation: None when it went to the member of
        staff (appended to the tracker, the bot silent); the answer's body
        when it asked to leave and the hand-over was released."""
        # No intent (nothing classified it: it is for a person); the intent the
        # hand-over's end triggers comes after it, so no policy ever sees it.
        user_event = {"event": "user", "text": message, "input_channel": REST_CHANNEL,
                      "parse_data": {"text": message, "intent": {}, "entities": []},
                      "metadata": {"client": client, "handoff": held.get("id")}}
        await rasa.append_events(sender, [user_event])
        if not asks_to_leave_handoff(message):
            await handoffs.bump(sender)
            log.info("chat turn held by a person: %d characters to staff", len(message))
            return None
        try:
            await handoffs.client.release(held["id"], to="bot", by="citizen")
        except HandoffConflict:
            pass  # released or closed by staff meanwhile: the bot has said so already
        except HandoffUnavailable:
            raise unavailable() from None
        try:
            reply = await rasa.trigger_intent(sender, "EXTERNAL_handoff_released", {"by": "citizen"}, REST_CHANNEL)
        finally:
            await handoffs.bump(sender)
        log.info("chat turn: the citizen left the hand-over, %d messages out", len(reply.messages))
        return {"messages": reply.messages, "handoff": None}

    @app.post("/api/chat/messages")
    async def send(request: Request) -> HTTPResponse:
        nonce = await nonce_of(request)
        message = text_field(json_body(request), "message", MAX_MESSAGE_CHARS)
        address = client_address(request)
        await limiter.check(SESSION_TURNS, nonce)
        await limiter.check(ADDRESS_TURNS, address)
        sender = SENDER_PREFIX + nonce
        client = limiter.opaque("client:" + address)
        try:
            held = await handoffs.held(sender)
            if held is not None:
                answer = await to_staff(sender, message, held, client)
                body = answer or {"messages": [], "handoff": citizen_view(held)}
                return json_response({**body, "session": sessions.issue(nonce)})
            reply = await rasa.send(sender, message, metadata={"client": client})
        except RasaUnavailable:
            raise unavailable() from None
        handoff = None
        if opened_live(reply.handoff):  # this turn opened a hand-over (or found one open): the backend's view
            await handoffs.remember(sender)
            handoff = citizen_view(await handoffs.held(sender))
        await handoffs.bump(sender)  # a long poll waiting on this conversation (another tab) answers
        log.info("chat turn: %d characters in, %d messages out", len(message), len(reply.messages))
        return json_response({"messages": reply.messages, "handoff": handoff, "session": sessions.issue(nonce)})

    @app.post("/api/chat/feedback")
    async def feedback(request: Request) -> HTTPResponse:
        nonce = await nonce_of(request)
        message_id, rating = feedback_of(json_body(request))
        await limiter.check(SESSION_POLLS, nonce)
        sender = SENDER_PREFIX + nonce
        try:
            messages = await rasa.history(sender)
        except RasaUnavailable:
            raise unavailable() from None
        if not rated_message(messages, message_id):
            raise WebError(404, "unknown_message", "This conversation has no answer of the assistant with this id.")
        await ratings.add_feedback(sender, message_id, rating)
        log.info("chat feedback: %s", rating)
        return json_response({"rated": True}, status=201)

    @app.post("/api/chat/rating")
    async def rating(request: Request) -> HTTPResponse:
        """The conversation's rating; also with a session "new chat" ended (the widget asks then)."""
        nonce, problem = sessions.check(request.headers.get(SESSION_HEADER))
        if nonce is None:
            raise refused(problem)
        score, comment = rating_of(json_body(request))
        await limiter.check(SESSION_POLLS, nonce)
        await ratings.add_rating(SENDER_PREFIX + nonce, score, comment)
        log.info("chat rating: %d", score)
        return json_response({"rated": True}, status=201)
