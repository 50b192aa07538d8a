"""action_human_handoff: a hand-over ticket at the card backend, for a member of staff."""
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker

from actions import backend_client as backend
from actions.conversation import backend_client, channel_of, language, verification_token, verified
from actions.messages import say, text


class ActionHumanHandoff(Action):
    """Opens a ticket whose summary holds what the user asked about (intents
    and FAQ topics), never what they typed: no personal data can leak into it."""

    def name(self) -> Text:
        return "action_human_handoff"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[Dict[Text, Any]]:
        topics = []
        for event in tracker.events:
            if event.get("event") == "user":
                parse = event.get("parse_data") or {}
                intent = (parse.get("intent") or {}).get("name")
                if intent == "faq":
                    intent = (((parse.get("response_selector") or {}).get("faq") or {}).get("response") or {}).get("intent_response_key") or intent
                if intent and intent not in topics and not intent.startswith("nlu_"):
                    topics.append(intent)
        lang = language(tracker)
        summary = text("handoff_summary", lang, topics=", ".join(topics[-10:] or ["-"]))
        if verified(tracker):
            summary += text("handoff_summary_verified", lang)
        client = backend_client()
        key = backend.idempotency_key(tracker.sender_id, "handoff", str(len(tracker.events)))
        # The web process puts a keyed hash of the client's address in the message's metadata.
        address = (tracker.latest_message or {}).get("metadata") or {}
        try:
            ticket = await client.open_handoff_ticket(
                summary, channel_of(tracker), lang, key,
                token=verification_token(tracker), conversation=tracker.sender_id,
                client=address.get("client") if isinstance(address.get("client"), str) else None)
        except backend.BackendError as error:
            say(dispatcher, "handoff_too_many" if error.code == "too_many_tickets" else "backend_down", lang)
            return []
        say(dispatcher, "handoff_already_open" if ticket.already_open else "handoff_opened", lang,
            ticket_number=ticket.ticket_number)
        return []
