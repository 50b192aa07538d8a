"""callback_form: a call back from staff, when nobody can answer live
(outside staff hours, or nobody claimed the conversation in time).

The form asks whether the citizen wants a call back (callback_consent: yes /
no), then, with a yes, for a mainland mobile number (callback_phone). The
number is sealed in its slot (bot/privacy/sealed.py; the tracker store keeps
only ciphertext, and a message typed at that prompt is stored masked), handed
to the card backend by action_submit_callback, and cleared. Whatever happens,
the form ends filled and the submit records the outcome on the conversation's
ticket (opening a `callback` ticket when it has none): a call back to the
masked number, or the record that the citizen left no contact, in which case
the reply never promises a call.

A message at a prompt is never taken for what it is not:
- a password: warned about, discarded;
- a question or an FAQ (NLU's), asking for a person: the form is rejected for
  that turn so the rule answers it (data/rules.yml), then it asks again;
- at the consent prompt: yes / no in words or buttons (also NLU's affirm /
  deny, "算了" and "stop" for no); a mobile number typed there is a yes and the
  number at once; anything else: what is needed is said again;
- at the number prompt: "算了" / no: no contact; thanks, a question, a
  sentence: what is needed is said again (no failure); a wrong number: said
  why, counted; the third ends the form politely (no contact).
"""
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions import backend_client as backend
from actions.conversation import (
    MAX_FAILURES, backend_client, clear, language, latest_intent, latest_text, mentions_password,
)
from actions.forms import LEAVE, NOT_A_VALUE, PASSWORD_TYPED, AskForSlot
from actions.handoff import handoff_payload, is_trigger, open_ticket, say_backend_failed
from actions.messages import say
from bot.privacy import pii, sealed, slots
from bot.text import normalize_text

# Intents whose rules take the turn from the form (data/rules.yml).
RULED_INTENTS = {"faq", "human_handoff"}
# Whole answers to "shall staff call you back?" (normalised: lower case, no punctuation).
_YES = frozenset("需要 要 好 好的 好啊 好吧 可以 行 是 是的 对 嗯 嗯嗯 需要回电 请回电 麻烦了 麻烦回电 "
                 "yes y yeah yep sure ok okay please".split()) | {"yes please", "call me", "call me back"}
_NO = frozenset("不用 不用了 不需要 不需要了 不要 不要了 不了 不必 不必了 没有 否 不 不用回电 不用谢谢 不用了谢谢 "
                "no n nope".split()) | {"no thanks", "no thank you", "no need", "not needed", "don't call me",
                                        "do not call me"}
_PUNCTUATION = re.compile(r"[\s,.!?;:~，。！？；：、…～\"“”()（）]+")
_DIGITS = re.compile(r"\d")


def yes_or_no(text: Optional[str]) -> Optional[bool]:
    """A whole message that answers yes (True) or no (False); None otherwise."""
    words = _PUNCTUATION.sub(" ", normalize_text(text or "")).strip()
    for candidate in (words, words.replace(" ", "")):
        if candidate in _YES:
            return True
        if candidate in _NO:
            return False
    return None


def _mobile_typed(text: Text) -> Optional[str]:
    """The mainland mobile number a message is (or states), normalised."""
    return pii.mobile_number(pii.number_typed(text) or "")


def _taken_by_a_rule(tracker: Tracker) -> bool:
    intent, _ = latest_intent(tracker)
    return intent in RULED_INTENTS and not _DIGITS.search(latest_text(tracker))


class ValidateCallbackForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_callback_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> List[Text]:
        # A no (or leaving, or three wrong numbers) ends the form: no number is asked.
        return [slots.CALLBACK_CONSENT] if tracker.get_slot(slots.CALLBACK_CONSENT) is False else domain_slots

    def _asked(self, tracker: Tracker) -> Optional[Text]:
        """The slot the form asks for now; None when this message is not an answer to it."""
        return None if is_trigger(tracker) else tracker.get_slot(slots.REQUESTED_SLOT)

    # --- extraction: what this message answers -------------------------------------------

    async def extract_callback_consent(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if self._asked(tracker) != slots.CALLBACK_CONSENT:
            return {}
        text = latest_text(tracker).strip()
        if mentions_password(text):
            say(dispatcher, "password_warning", language(tracker))
            return {slots.CALLBACK_CONSENT: PASSWORD_TYPED}
        if _mobile_typed(text):
            return {slots.CALLBACK_CONSENT: True}  # the number itself: extract_callback_phone
        answer = yes_or_no(text)
        if answer is None:
            intent, _ = latest_intent(tracker)
            if intent == "affirm":
                answer = True
            elif intent in ("deny", "stop") or pii.asks_to_leave(text):
                answer = False
        if answer is not None:
            return {slots.CALLBACK_CONSENT: answer}
        if _taken_by_a_rule(tracker):
            return {}
        return {slots.CALLBACK_CONSENT: NOT_A_VALUE}

    async def extract_callback_phone(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        asked = self._asked(tracker)
        text = latest_text(tracker).strip()
        if asked == slots.CALLBACK_CONSENT:
            number = _mobile_typed(text)
            return {slots.CALLBACK_PHONE: number} if number else {}
        if asked != slots.CALLBACK_PHONE:
            return {}
        if mentions_password(text):
            say(dispatcher, "password_warning", language(tracker))
            return {slots.CALLBACK_PHONE: PASSWORD_TYPED}
        value = pii.number_typed(text)
        if value is None:
            intent, _ = latest_intent(tracker)
            if pii.asks_to_leave(text) or yes_or_no(text) is False or intent in ("deny", "stop"):
                return {slots.CALLBACK_PHONE: LEAVE}
            if _taken_by_a_rule(tracker):
                return {}
            if not text or pii.says_something_else(text) or yes_or_no(text):
                return {slots.CALLBACK_PHONE: NOT_A_VALUE}
            return {slots.CALLBACK_PHONE: text}  # a wrong value: its validation says why
        return {slots.CALLBACK_PHONE: value}

    # --- validation -------------------------------------------------------------------------

    # Rasa also hands the form the slots an action cleared in this turn (None)
    # when it starts: nothing was typed, nothing to say.

    async def validate_callback_consent(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value is None:
            return {}
        if value == NOT_A_VALUE:
            say(dispatcher, "not_a_callback_consent", language(tracker))
            return {slots.CALLBACK_CONSENT: None}
        if value is True:
            return {slots.CALLBACK_CONSENT: True}
        if value is False:
            return {slots.CALLBACK_CONSENT: False, slots.CALLBACK_PHONE: None}
        return {slots.CALLBACK_CONSENT: None}  # a password, discarded

    async def validate_callback_phone(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value is None or sealed.is_sealed(value):  # cleared, or validated already
            return {}
        if value == LEAVE:
            return {slots.CALLBACK_CONSENT: False, slots.CALLBACK_PHONE: None}
        if value == NOT_A_VALUE:
            say(dispatcher, "not_a_callback_phone", language(tracker))
            return {slots.CALLBACK_PHONE: None}
        if value == PASSWORD_TYPED:
            return {slots.CALLBACK_PHONE: None}
        number = pii.mobile_number(value)
        if number:
            return {slots.CALLBACK_PHONE: sealed.seal(number, tracker.sender_id), slots.CALLBACK_CONSENT: True}
        failures = dict(tracker.get_slot(slots.FORM_FAILURES) or {})
        failures[slots.CALLBACK_PHONE] = failures.get(slots.CALLBACK_PHONE, 0) + 1
        if failures[slots.CALLBACK_PHONE] >= MAX_FAILURES:
            say(dispatcher, "callback_phone_given_up", language(tracker))
            failures.pop(slots.CALLBACK_PHONE)
            return {slots.CALLBACK_CONSENT: False, slots.CALLBACK_PHONE: None, slots.FORM_FAILURES: failures or None}
        say(dispatcher, "invalid_callback_phone", language(tracker))
        return {slots.CALLBACK_PHONE: None, slots.FORM_FAILURES: failures}


class ActionAskCallbackConsent(AskForSlot):
    slot = slots.CALLBACK_CONSENT


class ActionAskCallbackPhone(AskForSlot):
    slot = slots.CALLBACK_PHONE
    also_asked_by = ("invalid_callback_phone",)


class ActionSubmitCallback(Action):
    """Records what the citizen chose on the conversation's ticket; clears the form's slots."""

    def name(self) -> Text:
        return "action_submit_callback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> List[Dict[Text, Any]]:
        lang = language(tracker)
        phone = None
        if tracker.get_slot(slots.CALLBACK_CONSENT) is True:
            phone = pii.mobile_number(sealed.unseal(tracker.get_slot(slots.CALLBACK_PHONE), tracker.sender_id))
        done = clear(slots.CALLBACK_FORM)
        try:
            ticket = await open_ticket(tracker, "callback", "callback")
            await backend_client().callback(ticket.id, consent=phone is not None, phone=phone)
        except backend.BackendError as error:
            say_backend_failed(dispatcher, error, lang)
            return done
        payload = handoff_payload("waiting", id=ticket.id, mode="callback", position=None)
        if phone:
            say(dispatcher, "callback_recorded", lang, custom=payload, ticket_number=ticket.ticket_number,
                phone_masked=pii.mask_phone(phone))
        else:
            say(dispatcher, "callback_no_contact", lang, custom=payload, ticket_number=ticket.ticket_number)
        return done
