"""verify_identity_form: name, resident ID number, SMS code -> a verification token.

Only masked or sealed values reach the slots: the name is sealed (bot/privacy/sealed.py)
until the verification replaces it with its masked form; the ID number is used
in the turn it is typed (to start the verification at the backend) and kept as
its masked form; the code is confirmed in the turn it is typed and the slot
records "verified"; the verification token is sealed.
A message is never taken as a value unless it looks like one (bot/privacy/pii.py:
name_typed, number_typed). What else it can be, in this order:
- a password: warned about, discarded;
- something NLU gives to a rule (an FAQ question, "stop", asking for a human):
  the form is rejected for that turn, so the rule answers it, and the form
  then asks again where it was (data/rules.yml);
- asking to leave in words NLU was unsure of ("算了", "forget it"): the form
  ends here, as the "stop" rule would end it;
- a question, a sentence, thanks, a greeting (bot/pii.says_something_else):
  the form says what it needs and how to leave, and asks again;
- anything else is a wrong value: its validation says why and counts it.
"""
import math
import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions import backend_client as backend
from actions.conversation import (
    asks_to_correct_name, backend_client, channel_of, count_failure, language, language_before_latest_message,
    latest_intent, latest_text,
    mentions_password, said_this_turn, verified,
)
from actions.messages import say, text as message_text
from bot.privacy import pii, sealed, slots

# Intents whose rules take the turn from the form (data/rules.yml).
RULED_INTENTS = {"faq", "stop", "human_handoff"}
# Markers for what a message was instead of a value (never stored: validation replaces them).
PASSWORD_TYPED = "\u0000password"  # a password: warned, discarded
LEAVE = "\u0000leave"  # asking to leave: the form ends
NOT_A_VALUE = "\u0000not-a-value"  # a question, thanks, a greeting...: what is needed is said again
CORRECT_NAME = "\u0000correct-name"  # "名字打错了" after the name: the form starts again from the name
MARKERS = (PASSWORD_TYPED, LEAVE, NOT_A_VALUE)
_DIGITS = re.compile(r"\d")


def _taken_by_a_rule(tracker: Tracker, value) -> bool:
    """NLU gave the message to a rule: always when it holds no value; when it
    does, only if NLU is sure and there are no digits ("补卡" is a short FAQ
    question, not a name; a number is never a question)."""
    intent, confidence = latest_intent(tracker)
    if intent not in RULED_INTENTS:
        return False
    return value is None or (confidence >= 0.7 and not _DIGITS.search(latest_text(tracker)))




def whole_minutes(seconds: float) -> int:
    """A wait told in minutes, rounded up: "29 minutes" when 29.6 remain would send people back too early."""
    return max(1, math.ceil(seconds / 60))

class ValidateVerifyIdentityForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_verify_identity_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> List[Text]:
        # Verification happens once per conversation: a valid token skips it.
        return [] if verified(tracker) else domain_slots

    # --- extraction: what in this message is the value asked for -------------------------

    def _candidate(self, tracker: Tracker, slot: Text, dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
        if tracker.get_slot(slots.REQUESTED_SLOT) != slot:
            return {}
        text = latest_text(tracker).strip()
        if mentions_password(text):
            say(dispatcher, "password_warning", language(tracker))
            return {slot: PASSWORD_TYPED}
        if not text or asks_to_correct_name(text):
            return {}
        value = pii.name_typed(text) if slot == slots.HOLDER_NAME else pii.number_typed(text)
        if _taken_by_a_rule(tracker, value):
            return {}
        if pii.asks_to_leave(text):
            return {slot: LEAVE}
        if value is not None:
            return {slot: value}
        if pii.says_something_else(text):
            return {slot: NOT_A_VALUE}
        return {slot: text}  # a wrong value: its validation says why

    @staticmethod
    def _not_a_value(marker: Text, slot: Text, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
        """The validation of a message that was something else than a value."""
        if marker == LEAVE:
            # The form ends (requested_slot None); action_run_task then tidies up,
            # as for the "stop" rule.
            say(dispatcher, "task_cancelled", language(tracker))
            return {slot: None, slots.REQUESTED_SLOT: None}
        if marker == NOT_A_VALUE:
            # Not counted as a failure: it was no attempt at a value, and the
            # same question counts nothing when NLU recognises it as an FAQ.
            say(dispatcher, f"not_a_{slot}", language(tracker))
        return {slot: None}

    async def extract_holder_name(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if asks_to_correct_name(latest_text(tracker)) and tracker.get_slot(slots.REQUESTED_SLOT) != slots.HOLDER_NAME:
            # Only the name is extracted: validation sees one slot, clears the others
            # without a word, and the form asks for the name (validate_holder_name).
            return {slots.HOLDER_NAME: CORRECT_NAME}
        return self._candidate(tracker, slots.HOLDER_NAME, dispatcher)

    async def extract_id_number_masked(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return self._candidate(tracker, slots.ID_NUMBER_MASKED, dispatcher)

    async def extract_sms_code(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return self._candidate(tracker, slots.SMS_CODE, dispatcher)

    # --- validation ---------------------------------------------------------------------

    async def validate_holder_name(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value == CORRECT_NAME:
            # Start again from the name (the code, if any, was for the old name);
            # no failure: Rasa's form then asks for the first empty slot, the name.
            return {slots.HOLDER_NAME: None, slots.ID_NUMBER_MASKED: None, slots.SMS_CODE: None,
                    slots.VERIFICATION_ID: None}
        if value in MARKERS:
            return self._not_a_value(value, slots.HOLDER_NAME, dispatcher, tracker)
        if sealed.is_sealed(value):  # already validated (Rasa validates every filled slot again)
            return {slots.HOLDER_NAME: value}
        name = (value or "").strip()
        if pii.looks_like_name(name):
            # A Chinese name typed in an English conversation says nothing
            # about the language: keep the conversation's.
            return {slots.HOLDER_NAME: sealed.seal(name, tracker.sender_id),
                    slots.LANGUAGE: language_before_latest_message(tracker)}
        say(dispatcher, "invalid_name", language(tracker))
        return {slots.HOLDER_NAME: None, **count_failure(tracker, slots.HOLDER_NAME, dispatcher)}

    async def validate_id_number_masked(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value in MARKERS:
            return self._not_a_value(value, slots.ID_NUMBER_MASKED, dispatcher, tracker)
        lang = language(tracker)
        if pii.looks_like_phone_number(value):
            say(dispatcher, "phone_not_id", lang)
            return {slots.ID_NUMBER_MASKED: None, **count_failure(tracker, slots.ID_NUMBER_MASKED, dispatcher)}
        try:
            id_number = pii.normalize_id_number(value or "")
        except pii.InvalidIdNumber as error:
            say(dispatcher, f"id_number_{error.reason}", lang)
            return {slots.ID_NUMBER_MASKED: None, **count_failure(tracker, slots.ID_NUMBER_MASKED, dispatcher)}
        name = sealed.unseal(tracker.get_slot(slots.HOLDER_NAME), tracker.sender_id)
        if name is None:  # no name this verification can use: ask for it again
            return {slots.HOLDER_NAME: None, slots.ID_NUMBER_MASKED: None, slots.REQUESTED_SLOT: slots.HOLDER_NAME}
        client = backend_client()
        key = backend.idempotency_key(tracker.sender_id, "verify", pii.mask_id_number(id_number),
                                      str((tracker.latest_message or {}).get("message_id") or ""))
        try:
            started = await client.start_verification(name, id_number, channel_of(tracker), key)
        except backend.InvalidIdNumber as error:
            reason = error.reason if error.reason in pii.ID_NUMBER_REASONS else "check_character"
            say(dispatcher, f"id_number_{reason}", lang)
            return {slots.ID_NUMBER_MASKED: None}
        except backend.IdentityLocked as error:
            return self._give_up(dispatcher, tracker, "identity_locked", minutes=whole_minutes(error.retry_after))
        except backend.TooManyCodes as error:
            return self._give_up(dispatcher, tracker, "too_many_codes", minutes=whole_minutes(error.retry_after))
        except backend.BackendError:
            return self._give_up(dispatcher, tracker, "backend_down")
        # The backend answers a name and ID number no holder has like a holder's
        # (the code then never matches): the reply says "if", and no phone.
        return {slots.ID_NUMBER_MASKED: pii.mask_id_number(id_number), slots.VERIFICATION_ID: started.verification_id}

    async def validate_sms_code(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value in MARKERS:
            return self._not_a_value(value, slots.SMS_CODE, dispatcher, tracker)
        digits = re.sub(r"\D", "", value or "")
        if len(digits) != 6:
            say(dispatcher, "ask_sms_code_format", language(tracker))
            return {slots.SMS_CODE: None, **count_failure(tracker, slots.SMS_CODE, dispatcher)}
        client = backend_client()
        try:
            token = await client.confirm_verification(tracker.get_slot(slots.VERIFICATION_ID), digits)
        except backend.WrongCode as error:
            say(dispatcher, "wrong_code", language(tracker), attempts_left=error.attempts_left)
            return {slots.SMS_CODE: None, **count_failure(tracker, slots.SMS_CODE, dispatcher)}
        except backend.VerificationExpired:
            # The ID number is not kept, so a new code needs it again.
            say(dispatcher, "verification_expired", language(tracker))
            return {slots.SMS_CODE: None, slots.ID_NUMBER_MASKED: None, slots.VERIFICATION_ID: None,
                    slots.REQUESTED_SLOT: slots.ID_NUMBER_MASKED}
        except backend.IdentityLocked as error:
            return self._give_up(dispatcher, tracker, "identity_locked", minutes=whole_minutes(error.retry_after))
        except backend.BackendError:
            return self._give_up(dispatcher, tracker, "backend_down")
        say(dispatcher, "verified", language(tracker), holder_name=token.name_masked,
                                 id_number_masked=token.id_number_masked)
        return {
            slots.SMS_CODE: "verified",
            slots.HOLDER_NAME: token.name_masked,
            slots.VERIFICATION_TOKEN: sealed.seal(token.token, tracker.sender_id),
            slots.VERIFICATION_EXPIRES_AT: token.expires_at,
            slots.FORM_FAILURES: None,
        }

    @staticmethod
    def _give_up(dispatcher: CollectingDispatcher, tracker: Tracker, key: Text, **fields) -> Dict[Text, Any]:
        """The verification cannot go on: fill the form so it ends; no token
        is set, so action_run_task does nothing but tidy up."""
        say(dispatcher, key, language(tracker), **fields)
        return {slots.HOLDER_NAME: "-", slots.ID_NUMBER_MASKED: "-", slots.SMS_CODE: "failed"}


class AskForSlot(Action):
    """Asks for one of the form's slots (the words: actions/messages.yml)."""

    slot: Text = ""
    also_asked_by: tuple = ()  # other validation messages that already ask for the slot

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        lang = language(tracker)
        if any(said_this_turn(tracker, message_text(key, lang)) for key in (f"not_a_{self.slot}", *self.also_asked_by)):
            return []  # the validation just said what is needed (and how to leave): not twice
        # The code prompt names no phone: the backend gives no hint of the phone on file.
        say(dispatcher, f"ask_{self.slot}", language(tracker))
        return []


class ActionAskHolderName(AskForSlot):
    slot = slots.HOLDER_NAME


class ActionAskIdNumber(AskForSlot):
    slot = slots.ID_NUMBER_MASKED
    also_asked_by = ("phone_not_id",)


class ActionAskSmsCode(AskForSlot):
    slot = slots.SMS_CODE
