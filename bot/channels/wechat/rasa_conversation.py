"""What the channel does to a conversation in the Rasa server it runs in,
besides a turn: append a user message without a turn (a held conversation's
message, for the member of staff), and trigger an intent (a status change the
assistant must speak about). Done in-process, as Rasa's own HTTP routes do
(`POST /conversations/{id}/tracker/events` and `.../trigger_intent` in
rasa/server.py): under the conversation's lock, through the agent's processor
and tracker store (the tracker store redacts what it saves, as for every turn).
The agent is looked up on the sanic app at each call: a model reload replaces it.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa.core.channels.channel import OutputChannel
from rasa.shared.core.events import UserUttered


class AssistantNotReady(RuntimeError):
    """No agent with a model in this server (yet), or the model lacks an intent."""


class RasaConversations:
    def __init__(self) -> None:
        self.app: Any = None  # the sanic app, bound when the server starts

    def bind(self, app: Any) -> None:
        self.app = app

    def _agent(self) -> Any:
        agent = getattr(getattr(self.app, "ctx", None), "agent", None)
        if agent is None or not agent.is_ready():
            raise AssistantNotReady("the Rasa agent is not loaded")
        return agent

    @staticmethod
    def _user_event(text: str, input_channel: str, message_id: Optional[str],
                    metadata: Optional[Dict[str, Any]]) -> UserUttered:
        # No intent: the message is for a person, the NLU never reads it. The
        # intent triggered when the assistant takes over again follows it, so
        # no policy sees a turn ending on it.
        return UserUttered(text, input_channel=input_channel, message_id=message_id, metadata=metadata)

    async def append_user_message(self, sender: str, text: str, *, input_channel: str,
                                  message_id: Optional[str] = None,
                                  metadata: Optional[Dict[str, Any]] = None) -> None:
        """The user's message, stored in their conversation without a turn."""
        agent = self._agent()
        async with agent.lock_store.lock(sender):
            tracker = await agent.processor.fetch_tracker_with_initial_session(sender)
            tracker.update(self._user_event(text, input_channel, message_id, metadata), agent.domain)
            await agent.tracker_store.save(tracker)

    async def trigger_intent(self, sender: str, intent: str, entities: List[Dict[str, Any]],
                             output_channel: OutputChannel, *, said: Optional[str] = None,
                             input_channel: str = "", message_id: Optional[str] = None,
                             metadata: Optional[Dict[str, Any]] = None) -> None:
        """Runs the assistant on `intent` (as an external event) and sends what it says to
        `output_channel`; `said`, when given, is the user's message that caused it,
        stored first (under the same lock)."""
        agent = self._agent()
        if intent not in agent.domain.intents:
            raise AssistantNotReady(f"the model has no intent {intent} (retrain it)")
        async with agent.lock_store.lock(sender):
            tracker = await agent.processor.fetch_tracker_and_update_session(sender, output_channel)
            if said is not None:
                tracker.update(self._user_event(said, input_channel, message_id, metadata), agent.domain)
            # processes the intent and saves the tracker (the user's message with it)
            await agent.trigger_intent(intent_name=intent, entities=entities,
                                       output_channel=output_channel, tracker=tracker)
