"""The staff's side of a live hand-over (issue 12): the queue, claiming a
conversation, its transcript, writing in it, handing it back or closing it.

    GET  /api/staff/handoffs?status=open|waiting|claimed|closed   -> {"handoffs": [handoff]}
    GET  /api/staff/handoffs/{id}                  -> {"handoff", "transcript": [{"from", "text", "at", "id", "staff"?}]}
    POST /api/staff/handoffs/{id}/claim            -> {"handoff", "announced"}; 409 already_claimed
    POST /api/staff/handoffs/{id}/messages {"text"} -> 201 {"message": {"from": "staff", "staff", "text"}};
                                                      409 not_claimed_by_you / already_closed; 502 wechat_refused
    POST /api/staff/handoffs/{id}/release {"to": "bot"|"closed", "outcome"?} -> {"handoff", "announced"};
                                                      409 already_closed / not_claimed_by_you

In the guarded group of routes.py (a staff login, same-origin POSTs); every
POST also carries the login's CSRF token (X-CSRF-Token). Each change goes
first to the card backend, which decides it (one atomic UPDATE: of two claims
at once, on one web process or two, one wins) and writes the audit log with
the staff username; then Rasa is told (an EXTERNAL_handoff_* intent, so the
bot says what changed in the citizen's language, on the conversation's
channel; or a staff message appended to the tracker as a bot event marked
`from: staff`); then the conversation's version is bumped, so the citizen's
long poll answers. The citizen sees the member of staff's display name (else
the username) masked: its first character and ** (王**, c**).

The transcript is the tracker store's (already redacted), and every text is
passed through bot.privacy.pii.redact(codes=True) on its way out: no ID
number, phone number or code reaches the staff page in clear. The
conversation's sender id (a WeChat openid) never leaves the server.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Dict, Optional, Tuple

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff.client import HandoffClient, HandoffConflict, HandoffNotFound, HandoffRefused, HandoffUnavailable
from bot.http.errors import HttpError
from bot.http.json import json_response
from bot.privacy.pii import redact
from bot.text import is_clean_text
from bot.web.config import MAX_STAFF_MESSAGE_CHARS
from bot.web.handoff_state import (
    WECHAT,
    HandoffState,
    output_channel,
    public_channel,
    staff_display_name,
)
from bot.web.http import json_body, text_field
from bot.web.rasa_client import RasaClient, RasaUnavailable, WeChatRefused, history_from_events, staff_metadata
from bot.web.staff.guard import StaffGuard

log = logging.getLogger("bot.web.staff.handoffs")

STATUSES = ("open", "waiting", "claimed", "closed")
RELEASE_TO = ("bot", "closed")
MAX_OUTCOME_CHARS = 200
CLAIMED, CLOSED = "claimed", "closed"
# What Rasa is told, by what happened (bot/web/chat.py tells it the citizen left).
CLAIMED_INTENT = "EXTERNAL_handoff_claimed"
RELEASED_INTENT = "EXTERNAL_handoff_released"
CLOSED_INTENT = "EXTERNAL_handoff_closed"


def backend_down() -> HttpError:
    return HttpError(503, "backend_unavailable", "The hand-over service is unavailable at the moment.")


def not_found() -> HttpError:
    return HttpError(404, "handoff_not_found", "There is no such hand-over.")


def conflict(code: str) -> HttpError:
    messages = {
        "already_claimed": "Another member of staff has already claimed this conversation.",
        "already_closed": "This hand-over is already closed.",
        "not_claimed_by_you": "Only the member of staff who claimed this conversation can do this.",
    }
    return HttpError(409, code, messages.get(code, "This hand-over has changed meanwhile; reload it."))


def staff_view(handoff: Dict[str, Any]) -> Dict[str, Any]:
    """The backend's view of a hand-over as staff see it: the channel named web or wechat."""
    return {**handoff, "channel": public_channel(handoff.get("channel"))}


# An ID number or a phone number as bot.privacy.pii masks it (110105********002X,
# 138****5678): kept as it is (redacting it again with codes=True would take its
# digits for a code and leave only stars).
_MASKED = re.compile(r"(?<![0-9])(?:[0-9]{6}\*{8}[0-9Xx]{4}|[0-9]{6}\*{5}[0-9]{4}|[0-9]{3}\*{4}[0-9]{4})(?![0-9])")


def redact_for_staff(text: str) -> str:
    """`text` through bot.privacy.pii.redact(codes=True): ID and phone numbers
    and codes masked; numbers masked already are left as they are."""
    if not text:
        return text
    parts, at = [], 0
    for match in _MASKED.finditer(text):
        parts += [redact(text[at:match.start()], codes=True), match.group(0)]
        at = match.end()
    return "".join(parts) + redact(text[at:], codes=True)


def transcript(events) -> list:
    """The conversation as the tracker store keeps it, every text redacted
    once more (codes too): from user, bot or staff, with time and id."""
    out = []
    for message in history_from_events(events):
        line = {"from": message["from"], "text": redact_for_staff(message["text"]),
                "at": message.get("at"), "id": message.get("id")}
        if message["from"] == "staff":
            line["staff"] = message.get("staff") or ""
        out.append(line)
    return out


def shown_to_citizens(request: Request) -> str:
    """The logged-in member of staff as citizens see them: the display name
    (else the username), masked (王**, c**)."""
    staff = request.ctx.staff
    return staff_display_name(getattr(staff, "shown_name", None) or staff.username)


def handoff_id_of(value: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        raise not_found()
    return int(value)


def status_param(request: Request) -> str:
    for name in request.args:
        if name != "status":
            raise HttpError(422, "invalid_request", f"Unknown parameter `{str(name)[:40]}`.")
    values = request.args.getlist("status") or ["open"]
    if len(values) != 1 or values[0] not in STATUSES:
        raise HttpError(422, "invalid_request", f"`status` is one of {', '.join(STATUSES)}.")
    return values[0]


def release_body(request: Request) -> Tuple[str, Optional[str]]:
    data = json_body(request)
    for name in data:
        if name not in ("to", "outcome"):
            raise HttpError(422, "invalid_request", f"Unknown field `{str(name)[:40]}`.")
    to, outcome = data.get("to"), data.get("outcome")
    if to not in RELEASE_TO:
        raise HttpError(422, "invalid_request", "`to` is bot (hand back to the assistant) or closed.")
    if outcome is not None:
        if not isinstance(outcome, str) or not outcome.strip() or len(outcome) > MAX_OUTCOME_CHARS \
                or not is_clean_text(outcome):
            raise HttpError(422, "invalid_request", f"`outcome` is a short text (at most {MAX_OUTCOME_CHARS} characters).")
        outcome = outcome.strip()
    return to, outcome


def handoffs_blueprint(client: HandoffClient, rasa: RasaClient, handoffs: HandoffState, guard: StaffGuard) -> Blueprint:
    bp = Blueprint("staff_handoffs")

    async def backend(call, *args, **kwargs):
        """A backend call: its errors as this API's."""
        try:
            return await call(*args, **kwargs)
        except HandoffUnavailable:
            raise backend_down() from None
        except HandoffNotFound:
            raise not_found() from None
        except HandoffConflict as error:
            raise conflict(error.code) from None
        except HandoffRefused as error:
            if error.http_status == 422:  # e.g. an outcome naming an ID or phone number
                raise HttpError(422, error.code, error.message) from None
            log.error("backend refused the web process: %s %s", error.http_status, error.code)
            raise backend_down() from None

    async def detail(handoff_id: int) -> Tuple[Dict[str, Any], Optional[str]]:
        """(the hand-over, its conversation's sender id: None for a ticket of no conversation)."""
        answer = await backend(client.get, handoff_id)
        return answer["handoff"], answer["conversation"]

    async def announce(conversation: Optional[str], channel: Optional[str], intent: str,
                       entities: Dict[str, Any]) -> bool:
        """Rasa says what changed, in the conversation; False when it could not
        (the change stands: the citizen's widget still sees the new state)."""
        if not conversation:
            return False
        try:
            await rasa.trigger_intent(conversation, intent, entities, output_channel(channel))
            return True
        except RasaUnavailable:
            log.warning("rasa unavailable to announce %s", intent)
            return False
        finally:
            await handoffs.bump(conversation)

    def holder_check(handoff: Dict[str, Any], username: str) -> None:
        if handoff.get("status") == CLOSED:
            raise conflict("already_closed")
        if handoff.get("status") == CLAIMED and handoff.get("claimed_by") != username:
            raise conflict("not_claimed_by_you")

    @bp.get("/api/staff/handoffs")
    async def queue(request: Request) -> HTTPResponse:
        listed = await backend(client.list, status_param(request))
        return json_response({"handoffs": [staff_view(h) for h in listed]})

    @bp.get("/api/staff/handoffs/<handoff_id:str>")
    async def one(request: Request, handoff_id: str) -> HTTPResponse:
        handoff, conversation = await detail(handoff_id_of(handoff_id))
        try:
            events = await rasa.events(conversation) if conversation else []
        except RasaUnavailable:
            raise HttpError(503, "assistant_unavailable", "The conversation cannot be read at the moment.") from None
        return json_response({"handoff": staff_view(handoff), "transcript": transcript(events)})

    @bp.post("/api/staff/handoffs/<handoff_id:str>/claim")
    async def claim(request: Request, handoff_id: str) -> HTTPResponse:
        guard.check_csrf_token(request)
        number, username = handoff_id_of(handoff_id), request.ctx.staff.username
        name = shown_to_citizens(request)
        handoff = await backend(client.claim, number, staff=username, staff_name=name)
        log.info("hand-over claimed")
        _, conversation = await detail(number)
        if conversation:  # a call-back's conversation, claimed, is held from now on too
            await handoffs.remember(conversation)
        announced = await announce(conversation, handoff.get("channel"), CLAIMED_INTENT, {"staff_name": name})
        return json_response({"handoff": staff_view(handoff), "announced": announced})

    @bp.post("/api/staff/handoffs/<handoff_id:str>/messages")
    async def message(request: Request, handoff_id: str) -> HTTPResponse:
        guard.check_csrf_token(request)
        number, username = handoff_id_of(handoff_id), request.ctx.staff.username
        data = json_body(request)
        for name in data:
            if name != "text":
                raise HttpError(422, "invalid_request", f"Unknown field `{str(name)[:40]}`.")
        text = text_field(data, "text", MAX_STAFF_MESSAGE_CHARS)
        handoff, conversation = await detail(number)
        holder_check(handoff, username)
        if handoff.get("status") != CLAIMED or not conversation:
            raise conflict("not_claimed_by_you")  # waiting: claim it first
        name = shown_to_citizens(request)
        try:
            if handoff.get("channel") == WECHAT:  # WeChat first: its refusal is the staff's to see
                await rasa.send_wechat_staff_message(conversation, text)
            await rasa.append_events(conversation, [{"event": "bot", "text": text, "metadata": staff_metadata(name)}])
        except WeChatRefused as refused:
            log.info("staff message refused by wechat: errcode %s", refused.errcode)
            raise HttpError(502, "wechat_refused", refused.message, errcode=refused.errcode) from None
        except RasaUnavailable:
            raise HttpError(503, "assistant_unavailable", "The message could not be delivered; try again.") from None
        await handoffs.bump(conversation)
        try:
            await client.record_message(number, username)
        except (HandoffUnavailable, HandoffConflict, HandoffNotFound, HandoffRefused) as error:
            # Delivered already: the audit row is missing, which the log says.
            log.error("a staff message was delivered but not audited: %s", type(error).__name__)
        log.info("staff message: %d characters", len(text))
        return json_response({"message": {"from": "staff", "staff": name, "text": redact_for_staff(text)}},
                             status=201)

    @bp.post("/api/staff/handoffs/<handoff_id:str>/release")
    async def release(request: Request, handoff_id: str) -> HTTPResponse:
        guard.check_csrf_token(request)
        number, username = handoff_id_of(handoff_id), request.ctx.staff.username
        to, outcome = release_body(request)
        handoff, conversation = await detail(number)
        holder_check(handoff, username)
        released = await backend(client.release, number, to=to, by="staff", staff=username, outcome=outcome)
        log.info("hand-over %s by staff", "handed back" if to == "bot" else "closed")
        intent, entities = (RELEASED_INTENT, {"by": "staff"}) if to == "bot" else (CLOSED_INTENT, {})
        announced = False
        if handoff.get("mode", "live") == "live":  # a call-back's citizen is not waiting in the chat
            announced = await announce(conversation, handoff.get("channel"), intent, entities)
        return json_response({"handoff": staff_view(released), "announced": announced})

    return bp
