"""The channel's in-process calls on Rasa's agent, with Rasa's own in-memory lock and
tracker stores and a stand-in for the processor (the running product is in
tests/channels/test_wechat_handoff_rasa.py)."""
from types import SimpleNamespace

import pytest
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered

from bot.channels.wechat.rasa_conversation import AssistantNotReady, RasaConversations

DOMAIN = Domain.from_dict({"intents": ["greet", "EXTERNAL_handoff_released"]})


class StubAgent:
    """Rasa's stores; the processor's part is played here, and a trigger only recorded."""

    def __init__(self) -> None:
        self.domain = DOMAIN
        self.lock_store = InMemoryLockStore()
        self.tracker_store = InMemoryTrackerStore(DOMAIN)
        self.processor = SimpleNamespace(fetch_tracker_with_initial_session=self._tracker,
                                         fetch_tracker_and_update_session=self._tracker)
        self.locked_while = []
        self.triggers = []

    async def _tracker(self, sender, output_channel=None, metadata=None):
        self.locked_while.append(self.lock_store.get_lock(sender) is not None)
        return await self.tracker_store.get_or_create_tracker(sender)

    def is_ready(self):
        return True

    async def trigger_intent(self, intent_name, entities, output_channel, tracker):
        self.triggers.append((intent_name, entities, [e.text for e in tracker.events if isinstance(e, UserUttered)]))
        await self.tracker_store.save(tracker)


def bound(agent):
    conversations = RasaConversations()
    conversations.bind(SimpleNamespace(ctx=SimpleNamespace(agent=agent)))
    return conversations


async def test_a_message_is_stored_under_the_lock_without_an_intent():
    agent = StubAgent()
    await bound(agent).append_user_message("oUserA", "我的卡丢了", input_channel="wechat", message_id="123",
                                           metadata={"wechat": {"msg_type": "text"}})
    tracker = await agent.tracker_store.retrieve("oUserA")
    [event] = [e for e in tracker.events if isinstance(e, UserUttered)]
    assert (event.text, event.intent_name, event.input_channel, event.message_id) == ("我的卡丢了", None, "wechat", "123")
    assert event.metadata == {"wechat": {"msg_type": "text"}}
    assert agent.locked_while == [True]
    assert agent.lock_store.get_lock("oUserA") is None  # released afterwards


async def test_a_trigger_stores_what_the_user_said_first():
    agent = StubAgent()
    await bound(agent).trigger_intent("oUserA", "EXTERNAL_handoff_released", [{"entity": "by", "value": "citizen"}],
                                      CollectingOutputChannel(), said="算了", input_channel="wechat")
    assert agent.triggers == [("EXTERNAL_handoff_released", [{"entity": "by", "value": "citizen"}], ["算了"])]
    assert agent.locked_while == [True]


async def test_a_model_without_the_intent_or_no_model_is_said_so():
    with pytest.raises(AssistantNotReady, match="retrain"):
        await bound(StubAgent()).trigger_intent("oUserA", "EXTERNAL_handoff_closed", [], CollectingOutputChannel())
    with pytest.raises(AssistantNotReady):
        await RasaConversations().append_user_message("oUserA", "hi", input_channel="wechat")
