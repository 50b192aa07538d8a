"""A turn's answer and the conversation read back name each bot message by
the same id (bot/core/message_ids.py): the REST channel's StampingCollector
from the messages Rasa sends, the web process's history from the stored events."""
from __future__ import annotations

from rasa.shared.core.events import BotUttered

from bot.channels.rest import StampingCollector
from bot.web.rasa_client import history_from_events


async def test_the_turn_and_the_history_give_each_bot_message_one_id():
    events = [
        BotUttered("第一段\n\n第二段", metadata={"utter_action": "utter_faq"}),  # Rasa sends two messages
        BotUttered("按钮", data={"buttons": [{"title": "是", "payload": "/affirm"}]}),
        BotUttered("再见", metadata={"utter_action": "utter_goodbye"}),
        BotUttered(None, data={"custom": {"handoff": {"id": 1}}}),  # never shown
    ]
    events[2].timestamp = events[1].timestamp  # two in one microsecond: -2
    collector = StampingCollector()
    for event in events:
        await collector.send_response("sender", event.message())
    sent = collector.messages
    assert [m.get("text") for m in sent] == ["第一段", "第二段", "按钮", "再见", None]
    assert "id" not in sent[0] and sent[0]["at"] == sent[1]["at"]  # one answer, rated once: on its last part
    history = [m for m in history_from_events([e.as_dict() for e in events]) if m["from"] == "bot"]
    assert [m["id"] for m in history] == [sent[1]["id"], sent[2]["id"], sent[3]["id"]]
    assert sent[3]["id"].endswith("-2") and sent[3]["end"] is True and history[-1]["end"] is True
    assert "end" not in sent[2]
