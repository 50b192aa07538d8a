"""The card tasks, run once the identity is verified (verify_identity_form).

action_remember_task notes which task the user asked for; after the form,
action_run_task does it (status and progress at once; activation and loss
report after the user confirms: action_confirm_task / action_cancel_task).
Every backend failure gets an honest reply, and nothing is done twice: a
retried confirmation reuses its idempotency key.
"""
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import backend_client as backend
from actions.conversation import (
    TASK_SLOTS, backend_client, channel_of, clear, forget_verification, language, latest_intent, verification_token,
    verified,
)
from actions.messages import known, say, text
from bot.privacy import slots

TASKS = ("check_card_status", "activate_card", "report_lost_card", "reissue_progress")


def _tidy(tracker: Tracker) -> List[Dict[Text, Any]]:
    """After a task: forget the task; forget a failed verification too."""
    return clear(TASK_SLOTS) + ([] if verified(tracker) else forget_verification())


def _backend_failed(dispatcher: CollectingDispatcher, tracker: Tracker, error: Exception) -> List[Dict[Text, Any]]:
    """The honest reply to a backend call that failed, and the slots to reset."""
    if isinstance(error, backend.VerificationRequired):  # the 15-minute token ran out
        say(dispatcher, "verification_expired_token", language(tracker))
        return clear(TASK_SLOTS) + forget_verification()
    say(dispatcher, "backend_down", language(tracker))
    return _tidy(tracker)


def _status_words(status: str, lang: str) -> str:
    """An application's status in words; one the actions do not know as the backend names it."""
    key = f"application_status_{status}"
    return text(key, lang) if known(key) else status


def _say_card(dispatcher: CollectingDispatcher, card: backend.Card, lang: str) -> None:
    on, off = text("function_on", lang), text("function_off", lang)
    say(dispatcher, f"card_{card.status}", lang,
        card_number=card.card_number_masked,
        pickup_location=card.pickup_location or "-",
        social=on if card.social_security_active else off,
        financial=on if card.financial_active else off,
    )


class ActionRememberTask(Action):
    def name(self) -> Text:
        return "action_remember_task"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[Dict[Text, Any]]:
        intent, _ = latest_intent(tracker)
        # A finished verification whose token ran out (or that failed) is
        # started afresh: its filled slots would otherwise end the form at once.
        finished = tracker.get_slot(slots.SMS_CODE) in ("verified", "failed")
        stale = forget_verification() if finished and not verified(tracker) else []
        return stale + [SlotSet(slots.PENDING_TASK, intent if intent in TASKS else None),
                        SlotSet(slots.AWAITING_CONFIRMATION, None), SlotSet(slots.PENDING_CARD_ID, None)]


class ActionRunTask(Action):
    def name(self) -> Text:
        return "action_run_task"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[Dict[Text, Any]]:
        task = tracker.get_slot(slots.PENDING_TASK)
        if not verified(tracker) or task not in TASKS:
            return _tidy(tracker)  # the form already said why (locked, backend down)
        lang = language(tracker)
        client = backend_client()
        token = verification_token(tracker)
        try:
            if task == "reissue_progress":
                return self._progress(dispatcher, await client.list_applications(token), lang) + _tidy(tracker)
            cards = await client.list_cards(token)
        except backend.BackendError as error:
            return _backend_failed(dispatcher, tracker, error)
        if task == "check_card_status":
            if not cards:
                say(dispatcher, "no_cards", language(tracker))
            for card in cards:
                _say_card(dispatcher, card, lang)
            return _tidy(tracker)
        wanted = ("issued_inactive",) if task == "activate_card" else ("active", "issued_inactive")
        candidates = [c for c in cards if c.status in wanted]
        if not candidates:
            say(dispatcher, "nothing_to_activate" if task == "activate_card" else "nothing_to_report", lang)
            for card in cards:
                _say_card(dispatcher, card, lang)
            return _tidy(tracker)
        card = candidates[0]
        say(dispatcher, "confirm_activation" if task == "activate_card" else "confirm_loss_report", lang,
            card_number=card.card_number_masked)
        return [SlotSet(slots.PENDING_CARD_ID, card.card_id), SlotSet(slots.AWAITING_CONFIRMATION, True)]

    @staticmethod
    def _progress(dispatcher, applications, lang: str) -> List[Dict[Text, Any]]:
        if not applications:
            say(dispatcher, "no_applications", lang)
        for application in applications:
            steps = "；".join(
                f"{step.at[:10]} {_status_words(step.status, lang)}"
                + (f"（{step.note}）" if step.note else "")
                for step in application.timeline
            )
            say(dispatcher, "application", lang, submitted_at=application.submitted_at[:10],
                old_card=application.old_card_number_masked or "-",
                status=_status_words(application.status, lang),
                timeline=steps,
            )
        return []


class ActionConfirmTask(Action):
    def name(self) -> Text:
        return "action_confirm_task"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[Dict[Text, Any]]:
        task, card_id = tracker.get_slot(slots.PENDING_TASK), tracker.get_slot(slots.PENDING_CARD_ID)
        if not (verified(tracker) and card_id and task in ("activate_card", "report_lost_card")):
            dispatcher.utter_message(response="utter_anything_else")
            return _tidy(tracker)
        lang = language(tracker)
        client = backend_client()
        token = verification_token(tracker)
        # One key per conversation, task and card: a retried action never acts twice.
        key = backend.idempotency_key(tracker.sender_id, task, card_id, tracker.get_slot(slots.VERIFICATION_ID) or "")
        try:
            if task == "activate_card":
                card = await client.activate_card(token, card_id, key, channel_of(tracker))
                say(dispatcher, "activated", language(tracker), card_number=card.card_number_masked)
            else:
                report = await client.report_loss(token, card_id, key, channel_of(tracker))
                say(dispatcher, "loss_reported", language(tracker), card_number=report.card.card_number_masked)
                # How to reissue and what to bring: from the knowledge base.
                dispatcher.utter_message(response="utter_faq/reissue_process")
                dispatcher.utter_message(response="utter_faq/reissue_documents")
        except (backend.CardNotActivatable, backend.CardNotReportable, backend.CardNotFound):
            say(dispatcher, "nothing_to_activate" if task == "activate_card" else "nothing_to_report", lang)
        except backend.BackendError as error:
            return _backend_failed(dispatcher, tracker, error)
        return _tidy(tracker)


class ActionCancelTask(Action):
    def name(self) -> Text:
        return "action_cancel_task"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[Dict[Text, Any]]:
        say(dispatcher, "task_cancelled", language(tracker))
        return _tidy(tracker) + clear((slots.REQUESTED_SLOT,))
