"""Every stored event records the model that produced it (issue 13): Rasa stamps
`metadata.model_id` on each event a tracker logs (trackers.py update()), and our
redacting tracker store (bot/tracker_store.py) keeps it as it is, also when its hex
digits look like a phone or ID number to the redaction; a model reload changes
the id on the events that follow."""
from __future__ import annotations

import json
import sqlite3
import textwrap
import warnings

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import RedactingTrackerStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    DOMAIN = Domain.from_yaml(textwrap.dedent("""
        version: "3.1"
        intents: [inform, faq]
        slots:
          language: {type: text, influence_conversation: false, mappings: [{type: custom}]}
        responses:
          utter_greet: [{text: "您好"}]
    """))

# uuid4 hex ids as Rasa makes them, whose digit runs redact() would take for a phone
# number (138...) or an ID number (440524...), and an ordinary one.
OLD_MODEL = "13812345678abcdef0123456789abcde"
NEW_MODEL = "0123456789ab440524188001010014ff"
PLAIN_MODEL = "9f2c4e6a8b0d4f1e8a2c4e6b8d0f1a3c"


@pytest.fixture()
def store(tmp_path):
    store = RedactingTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    store.db_path = tmp_path / "tracker.db"
    yield store
    store.engine.dispose()


def turn(text: str, answer: str) -> list:
    return [
        UserUttered(text, {"name": "inform", "confidence": 0.9}, [], {"text": text}, input_channel="rest",
                    metadata={"echo": "phone 13800000002"}),
        SlotSet("language", "zh"),
        ActionExecuted("utter_greet"),
        BotUttered(answer, {"buttons": []}, {"utter_action": "utter_greet"}),
        ActionExecuted("action_listen"),
    ]


def stored(db_path) -> list:
    with sqlite3.connect(db_path) as connection:
        return [json.loads(data) for (data,) in connection.execute("SELECT data FROM events ORDER BY id")]


async def test_every_stored_event_keeps_the_model_id_that_produced_it(store):
    tracker = DialogueStateTracker("model-ids", DOMAIN.slots)
    tracker.model_id = OLD_MODEL  # what MessageProcessor sets on every tracker it fetches
    for event in [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
                  *turn("你好，我的手机 13800000002", "您好")]:
        tracker.update(event)
    await store.save(tracker)

    tracker = await store.retrieve("model-ids")  # the next turn, after a reload: the new model's id
    tracker.model_id = NEW_MODEL
    for event in turn("补办要多久", "一般 10 个工作日"):
        tracker.update(event)
    await store.save(tracker)

    tracker = await store.retrieve("model-ids")
    tracker.model_id = PLAIN_MODEL
    for event in turn("谢谢", "不客气"):
        tracker.update(event)
    await store.save(tracker)

    data = stored(store.db_path)
    assert [d["metadata"]["model_id"] for d in data] == [OLD_MODEL] * 8 + [NEW_MODEL] * 5 + [PLAIN_MODEL] * 5
    bots = [d for d in data if d["event"] == "bot"]
    assert [d["metadata"]["model_id"] for d in bots] == [OLD_MODEL, NEW_MODEL, PLAIN_MODEL]
    # the rest of the metadata is redacted as before
    assert all(d["metadata"]["echo"] == "phone 138****0002" for d in data if d["event"] == "user")
    assert "13800000002" not in json.dumps(data)


async def test_a_model_id_that_is_not_one_is_redacted_like_any_metadata(store):
    """A client's metadata may name a "model_id": kept whole only when it has the shape of one."""
    tracker = DialogueStateTracker("fake-id", DOMAIN.slots)
    tracker.update(UserUttered("你好", {"name": "inform", "confidence": 0.9}, [], {"text": "你好"},
                               metadata={"model_id": "my phone 13800000002"}))
    await store.save(tracker)
    assert stored(store.db_path)[0]["metadata"]["model_id"] == "my phone 138****0002"
