"""Small helpers every action shares: the user's language, what they typed,
whether the conversation is verified, failure counting."""
import re
import time
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.privacy import pii, sealed, slots
from bot.text import DEFAULT_LANGUAGE

MAX_FAILURES = 3
# Slots that belong to one verification; cleared together.
VERIFICATION_SLOTS = (
    slots.HOLDER_NAME, slots.ID_NUMBER_MASKED, slots.SMS_CODE, slots.VERIFICATION_ID,
)
TASK_SLOTS = (slots.PENDING_TASK, slots.PENDING_CARD_ID, slots.AWAITING_CONFIRMATION)

_CORRECTION = re.compile(
    r"((名字|姓名).{0,4}(错|不对|有误|打错|改)|(wrong|mistyped|typo).{0,10}name|name.{0,10}(wrong|mistake))",
    re.IGNORECASE,
)


def language(tracker: Tracker) -> str:
    return tracker.get_slot(slots.LANGUAGE) or DEFAULT_LANGUAGE


def language_before_latest_message(tracker: Tracker) -> str:
    """The `language` slot as it was before the latest user message set it."""
    seen_latest_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_latest_user = True
        elif seen_latest_user and event.get("event") == "slot" and event.get("name") == slots.LANGUAGE:
            return event.get("value") or DEFAULT_LANGUAGE
    return language(tracker) if seen_latest_user else DEFAULT_LANGUAGE


def channel_of(tracker: Tracker) -> str:
    """The channel the latest message came in on (the backend records it)."""
    return tracker.get_latest_input_channel() or "api"


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def latest_intent(tracker: Tracker) -> tuple:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def said_this_turn(tracker: Tracker, words: str) -> bool:
    """The bot said exactly `words` since the latest user message (a form's
    validation that already asked again: the prompt is not said twice)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot" and event.get("text") == words:
            return True
    return False


def mentions_password(text: str) -> bool:
    """A password or PIN typed with digits: warned about and discarded."""
    return pii.mentions_password(text) and bool(re.search(r"\d{4,}", text))


def asks_to_correct_name(text: str) -> bool:
    return bool(_CORRECTION.search(text))


def verified(tracker: Tracker, now: Optional[float] = None) -> bool:
    """A verification token (that we sealed) still valid for a minute or more."""
    expires = tracker.get_slot(slots.VERIFICATION_EXPIRES_AT)
    return (bool(expires) and float(expires) > (now or time.time()) + 60
            and sealed.unseal(tracker.get_slot(slots.VERIFICATION_TOKEN), tracker.sender_id) is not None)


def verification_token(tracker: Tracker) -> Optional[str]:
    """The verification token (sealed in its slot), if still valid."""
    return sealed.unseal(tracker.get_slot(slots.VERIFICATION_TOKEN), tracker.sender_id) if verified(tracker) else None


def forget_verification() -> List[Dict[Text, Any]]:
    return clear(VERIFICATION_SLOTS + (slots.VERIFICATION_TOKEN, slots.VERIFICATION_EXPIRES_AT, slots.FORM_FAILURES))


def count_failure(tracker: Tracker, slot: str, dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
    """One more failure for `slot`; at the third, offer a human."""
    failures = dict(tracker.get_slot(slots.FORM_FAILURES) or {})
    failures[slot] = failures.get(slot, 0) + 1
    if failures[slot] == MAX_FAILURES:
        from actions.messages import say

        say(dispatcher, "offer_human", language(tracker))
    return {slots.FORM_FAILURES: failures}


def clear(names) -> List[Dict[Text, Any]]:
    return [SlotSet(slot, None) for slot in names]


_client = None


def backend_client():
    """The action server's one backend client (it keeps its connections)."""
    global _client
    if _client is None:
        from actions.backend_client import BackendClient

        _client = BackendClient.from_settings()
    return _client
