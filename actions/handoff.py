"""Live help from a person (issue 12): the assistant's side.

action_human_handoff: during staff hours (HANDOFF_HOURS, bot/handoff/hours.py)
a `live` ticket at the card backend puts the conversation in the queue; the
reply says so, with the place in the queue, and carries the custom payload
`{"handoff": {"id", "status", "mode", "position"}}` from which the web process
and WeChat learn to ask the backend whether the conversation is held by a
person (while it is, they route the citizen's messages to staff, not here).
Outside staff hours the reply says so, with the hours, and callback_form
offers a call back (actions/callback.py).

action_handoff_update: speaks a status change that whoever made it triggered
through Rasa's trigger_intent (EXTERNAL_handoff_claimed / _released / _closed
/ _timeout), in the conversation's language; a timeout offers the call back.
A "/EXTERNAL_handoff_..." the citizen typed is no trigger: nothing is said.

A ticket's summary holds what the user asked about (intents and FAQ topics),
never what they typed: no personal data can leak into it.
"""
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import backend_client as backend, suggestions
from actions.conversation import backend_client, channel_of, clear, language, verification_token, verified
from actions.messages import say, text
from bot.handoff import hours
from bot.privacy import slots

CALLBACK_FORM = "callback_form"
CLAIMED, RELEASED, CLOSED, TIMEOUT = (
    "EXTERNAL_handoff_claimed", "EXTERNAL_handoff_released", "EXTERNAL_handoff_closed", "EXTERNAL_handoff_timeout")
_STAFF_NAME_MAX = 32  # a masked display name (王**); anything longer is no name


def summary(tracker: Tracker, lang: str) -> str:
    """The topics asked about (FAQ topics and tasks, by their titles in the
    citizen's language, the last 10 of the messages an action sees), for the
    member of staff: never what was typed."""
    topics = []
    for event in tracker.events:
        if event.get("event") == "user":
            parse = event.get("parse_data") or {}
            intent = (parse.get("intent") or {}).get("name") or ""
            if intent == "faq":
                intent = (((parse.get("response_selector") or {}).get("faq") or {}).get("response") or {}).get("intent_response_key") or intent
            name = suggestions.title(intent, lang) if intent != "human_handoff" else ""
            if name and name not in topics:
                topics.append(name)
    words = text("handoff_summary", lang, topics=", ".join(topics[-10:] or ["-"]))
    return words + (text("handoff_summary_verified", lang) if verified(tracker) else "")


def turn_key(tracker: Tracker) -> str:
    """This turn's own: the latest message's id, else the latest event's time
    (an action sees the latest turns only, so their count stops changing)."""
    message_id = (tracker.latest_message or {}).get("message_id")
    return str(message_id or (tracker.events[-1].get("timestamp") if tracker.events else ""))


async def open_ticket(tracker: Tracker, mode: str, purpose: str) -> backend.Ticket:
    """The conversation's hand-over ticket at the backend (its open one if it has one)."""
    lang = language(tracker)
    key = backend.idempotency_key(tracker.sender_id, purpose, turn_key(tracker))
    # The web process puts a keyed hash of the client's address in the message's metadata.
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    return await backend_client().open_handoff_ticket(
        summary(tracker, lang), channel_of(tracker), lang, key,
        token=verification_token(tracker), conversation=tracker.sender_id,
        client=metadata.get("client") if isinstance(metadata.get("client"), str) else None, mode=mode)


def say_backend_failed(dispatcher: CollectingDispatcher, error: backend.BackendError, lang: str) -> None:
    say(dispatcher, "handoff_too_many" if error.code == "too_many_tickets" else "backend_down", lang)


def handoff_payload(status: str, **fields: Any) -> Dict[str, Any]:
    """The custom payload a channel reads (never shown): `{"handoff": {...}}`."""
    return {"handoff": {"status": status, **fields}}


def staff_hours_text(staff_hours: hours.StaffHours, lang: str) -> str:
    """`周一至周五 09:00-17:00；周六 09:00-12:00` / `Mon-Fri 09:00-17:00; Sat 09:00-12:00`."""
    groups = staff_hours.groups()
    if groups == [(0, 6, ((0, 24 * 60),))]:
        return text("hours_every_day", lang)
    parts = []
    for first, last, spans in groups:
        days = text(f"weekday_{first}", lang)
        if last != first:
            days = text("hours_days", lang, first=days, last=text(f"weekday_{last}", lang))
        times = text("hours_span_join", lang).join(f"{hours.clock(start)}-{hours.clock(end)}" for start, end in spans)
        parts.append(text("hours_part", lang, days=days, spans=times))
    return text("hours_part_join", lang).join(parts)


def offer_callback(tracker: Tracker) -> List[Dict[Text, Any]]:
    """callback_form starts next, afresh: its slots and its count of wrong numbers cleared."""
    failures = dict(tracker.get_slot(slots.FORM_FAILURES) or {})
    events = clear(slots.CALLBACK_FORM)
    if failures.pop(slots.CALLBACK_PHONE, None) is not None:
        events.append(SlotSet(slots.FORM_FAILURES, failures or None))
    return events + [FollowupAction(CALLBACK_FORM)]


class ActionHumanHandoff(Action):
    def name(self) -> Text:
        return "action_human_handoff"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[Dict[Text, Any]]:
        lang = language(tracker)
        staff_hours = hours.configured()
        if not staff_hours.open_at():
            if staff_hours.never:
                say(dispatcher, "handoff_no_live_service", lang)
            else:
                say(dispatcher, "handoff_outside_hours", lang, hours=staff_hours_text(staff_hours, lang))
            return offer_callback(tracker)
        try:
            ticket = await open_ticket(tracker, "live", "handoff")
        except backend.BackendError as error:
            say_backend_failed(dispatcher, error, lang)
            return []
        # The backend answers "open" for waiting and claimed alike; only a live
        # waiting ticket has a place in the queue.
        status = "waiting" if ticket.mode == "callback" or ticket.position else "claimed"
        payload = handoff_payload(status, id=ticket.id, mode=ticket.mode, position=ticket.position)
        if ticket.mode == "callback":
            # Still a call-back ticket (the backend puts one asked for live back
            # in the queue): the citizen answers the call-back question again.
            say(dispatcher, "handoff_callback_open", lang, custom=payload, ticket_number=ticket.ticket_number)
            return offer_callback(tracker)
        if status == "claimed":
            say(dispatcher, "handoff_with_staff", lang, custom=payload, ticket_number=ticket.ticket_number)
        elif ticket.position == 1:
            say(dispatcher, "handoff_queued_first", lang, custom=payload, ticket_number=ticket.ticket_number)
        else:
            say(dispatcher, "handoff_queued", lang, custom=payload, ticket_number=ticket.ticket_number,
                position=ticket.position, ahead=ticket.position - 1)
        return []


def _entity(message: Dict[str, Any], name: str) -> Optional[str]:
    for entity in message.get("entities") or []:
        if entity.get("entity") == name and isinstance(entity.get("value"), str):
            return entity["value"].strip() or None
    return None


def is_trigger(tracker: Tracker) -> bool:
    """The latest message came through Rasa's trigger_intent, not from the citizen."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    return metadata.get("is_external") is True


class ActionHandoffUpdate(Action):
    def name(self) -> Text:
        return "action_handoff_update"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[Dict[Text, Any]]:
        if not is_trigger(tracker):
            return []  # a typed "/EXTERNAL_handoff_...": nobody joined or left
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        lang = language(tracker)
        if intent == CLAIMED:
            staff = _entity(message, "staff_name")
            if staff and len(staff) <= _STAFF_NAME_MAX:
                say(dispatcher, "handoff_claimed", lang, custom=handoff_payload("claimed", staff=staff), staff=staff)
            else:
                say(dispatcher, "handoff_claimed_unnamed", lang, custom=handoff_payload("claimed", staff=None))
        elif intent == RELEASED:
            by = "citizen" if _entity(message, "by") == "citizen" else "staff"
            say(dispatcher, "handoff_left_by_citizen" if by == "citizen" else "handoff_handed_back", lang,
                custom=handoff_payload("closed", outcome="back_to_bot", by=by))
        elif intent == CLOSED:
            say(dispatcher, "handoff_closed", lang, custom=handoff_payload("closed"))
        elif intent == TIMEOUT:
            say(dispatcher, "handoff_timeout", lang, custom=handoff_payload("waiting", mode="callback"),
                minutes=hours.wait_minutes())
            return offer_callback(tracker)
        return []
