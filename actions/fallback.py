"""The two-stage fallback's actions, in the user's language.

They replace Rasa's defaults, which speak English only and show raw intent
names. Their words: actions/messages.yml; the "did you mean" buttons:
actions/suggestions.py.
"""
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions import suggestions
from actions.conversation import language as conversation_language
from actions.messages import say, text


class ActionAskAffirmation(Action):
    """Stage one: "did you mean ...?" with the most likely topics as buttons."""

    def name(self) -> Text:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = conversation_language(tracker)
        dispatcher.utter_message(
            text=text("did_you_mean", language),
            buttons=suggestions.buttons(tracker.latest_message or {}, language),
        )
        return []


class ActionAskRephrase(Action):
    """Stage two: ask to rephrase, and offer a human."""

    def name(self) -> Text:
        return "action_default_ask_rephrase"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        say(dispatcher, "rephrase", conversation_language(tracker))
        return []


class ActionGiveUp(Action):
    """Nothing understood after both stages (or no rule applies): offer a human."""

    def name(self) -> Text:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        say(dispatcher, "give_up", conversation_language(tracker))
        # As Rasa's own default: the message that could not be handled does
        # not count as a turn for the policies.
        return [UserUtteranceReverted()]
