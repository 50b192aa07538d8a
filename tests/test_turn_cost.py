"""A turn costs the same late in a long conversation as early on (issue 14):
the tracker store keeps the sessions it read or saved (bot/session_cache.py)
and hands them out again while the database says nothing changed. What a turn
gets must be what reading the database gives, whichever process wrote it.

The store tests run Rasa's turn cycle (read, add the turn's events, save) on a
RedactingTrackerStore over a temporary SQLite file, and compare with a second
store that reads the same file afresh. The product tests hold a conversation
of more than a hundred turns over REST. Timings are bench/'s (`python -m bench
growth`), not the tests'.
"""
from __future__ import annotations

import sqlite3
from typing import List, Sequence

import pytest
import sqlalchemy as sa
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import RedactingTrackerStore
from tests.support.conversation_events import DOMAIN, KINDS, conversation
from tests.support.product import texts


def _store(path) -> RedactingTrackerStore:
    return RedactingTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(path))


def _turns(events: Sequence[Event]) -> List[List[Event]]:
    """`events` cut where a user message follows action_listen (where Rasa's turns start)."""
    turns: List[List[Event]] = [[]]
    for index, event in enumerate(events):
        previous = events[index - 1] if index else None
        if (isinstance(event, UserUttered) and isinstance(previous, ActionExecuted)
                and previous.action_name == "action_listen"):
            turns.append([])
        turns[-1].append(event)
    return turns


async def _take_turn(store: RedactingTrackerStore, sender: str, events: Sequence[Event]) -> None:
    """What Rasa does with a message: read the conversation, add the turn's events, save."""
    tracker = await store.retrieve(sender) or DialogueStateTracker(sender, DOMAIN.slots)
    for event in events:
        tracker.update(event)
    await store.save(tracker)


def _as_read(tracker: DialogueStateTracker) -> dict:
    return {"events": [event.as_dict() for event in tracker.events],
            "slots": {name: slot.value for name, slot in tracker.slots.items()},
            "active_loop": tracker.active_loop, "latest_action": tracker.latest_action,
            "paused": tracker.is_paused(), "followup": tracker.followup_action}


def _rows(path) -> List[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT sender_id, type_name, data FROM events ORDER BY id").fetchall()


async def test_a_kept_session_is_what_the_database_holds(tmp_path):
    store = _store(tmp_path / "tracker.db")
    for turn in _turns(conversation(5, 60, KINDS)):
        await _take_turn(store, "long", turn)
        kept, read = await store.retrieve("long"), await _store(tmp_path / "tracker.db").retrieve("long")
        assert _as_read(kept) == _as_read(read)
    assert store.sessions.get("long", store._conversation_key(store.sessionmaker(), "long")) is not None


async def test_a_new_conversations_first_turn_is_kept_as_the_database_would_give_it(tmp_path):
    store = _store(tmp_path / "tracker.db")
    first, second = _turns(conversation(9, 4, KINDS))[:2]
    start = first[0].timestamp
    restarted = [UserUttered("上一次的话", timestamp=start - 9), ActionExecuted("action_session_start", timestamp=start - 2),
                 SessionStarted(timestamp=start - 1), *first]  # a read gives the events from SessionStarted on
    for sender, events in (("plain", first), ("started", restarted)):
        await _take_turn(store, sender, events)
        key = store._conversation_key(store.sessionmaker(), sender)
        assert store.sessions.get(sender, key) is not None  # the next turn is not read from the database
        read = await _store(tmp_path / "tracker.db").retrieve(sender)
        assert _as_read(await store.retrieve(sender)) == _as_read(read)
        await _take_turn(store, sender, second)
        assert _as_read(await store.retrieve(sender)) == _as_read(await _store(tmp_path / "tracker.db").retrieve(sender))


async def test_a_new_conversation_is_not_looked_for_beyond_its_key(tmp_path):
    """A new conversation's turn: Rasa reads it (nothing stored), saves the
    empty tracker it creates, then the turn. Knowing from the conversation's
    key that nothing is stored, the store neither reads nor counts its events,
    and the empty tracker writes nothing (the same rows, fewer statements)."""
    store = _store(tmp_path / "tracker.db")
    statements: List[str] = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda _conn, _cursor, statement, *_: statements.append(" ".join(statement.split())))
    first = _turns(conversation(4, 2, KINDS))[0]
    assert await store.retrieve("new") is None
    await store.save(DialogueStateTracker("new", DOMAIN.slots))  # Rasa's create_tracker
    assert _rows(tmp_path / "tracker.db") == [] and len(statements) == 1  # the key alone
    await _take_turn(store, "new", first)
    reads = [s for s in statements if s.startswith("SELECT") and "max(id)" not in s]
    assert reads == [], reads  # no read or count of the conversation's events
    assert len(_rows(tmp_path / "tracker.db")) == len(first)
    assert _as_read(await store.retrieve("new")) == _as_read(await _store(tmp_path / "tracker.db").retrieve("new"))


async def test_two_processes_taking_turns_each_see_the_others_events(tmp_path):
    replicas = [_store(tmp_path / "tracker.db"), _store(tmp_path / "tracker.db")]
    saved = 0
    for number, turn in enumerate(_turns(conversation(7, 40, KINDS))):
        await _take_turn(replicas[number % 2], "shared", turn)
        saved += len(turn)
        assert len(_rows(tmp_path / "tracker.db")) == saved  # every event stored once, none twice
        for replica in replicas:
            read = await _store(tmp_path / "tracker.db").retrieve("shared")
            assert _as_read(await replica.retrieve("shared")) == _as_read(read)


async def test_a_conversation_changed_in_the_database_is_read_again(tmp_path):
    store = _store(tmp_path / "tracker.db")
    for turn in _turns(conversation(2, 12, {"faq": KINDS["faq"]})):
        await _take_turn(store, "erased", turn)
    with sqlite3.connect(tmp_path / "tracker.db") as db:  # e.g. an erasure request carried out
        db.execute("DELETE FROM events WHERE sender_id = 'erased'")
    assert await store.retrieve("erased") is None


async def test_a_new_session_is_read_alone(tmp_path):
    store = _store(tmp_path / "tracker.db")
    for turn in _turns(conversation(3, 10, {"faq": KINDS["faq"]})):
        await _take_turn(store, "sessions", turn)
    await _take_turn(store, "sessions", [ActionExecuted("action_session_start"), SessionStarted(),
                                         SlotSet("language", "zh"), ActionExecuted("action_listen")])
    tracker = await store.retrieve("sessions")
    assert [event.type_name for event in tracker.events] == ["session_started", "slot", "action"]
    assert _as_read(tracker) == _as_read(await _store(tmp_path / "tracker.db").retrieve("sessions"))


async def test_a_code_typed_at_the_code_prompt_is_masked_on_a_kept_session(tmp_path):
    store = _store(tmp_path / "tracker.db")
    for turn in _turns(conversation(1, 12, {"faq": KINDS["faq"], "greet": KINDS["greet"]})):
        await _take_turn(store, "code", turn)
    await _take_turn(store, "code", [UserUttered("我要查卡"), ActionExecuted("verify_identity_form"),
                                     SlotSet("requested_slot", "sms_code"), BotUttered("请输入验证码"),
                                     ActionExecuted("action_listen")])
    assert store.sessions.get("code", store._conversation_key(store.sessionmaker(), "code")) is not None
    await _take_turn(store, "code", [UserUttered("583920"), ActionExecuted("verify_identity_form"),
                                     BotUttered("核验成功"), ActionExecuted("action_listen")])
    stored = "".join(data for _, _, data in _rows(tmp_path / "tracker.db"))
    assert "583920" not in stored and '"text": "******"' in stored


# --- the product: a conversation of more than a hundred turns --------------------------------------

QUESTIONS = ["补办的社保卡需要重新激活吗?", "补卡要带什么材料", "Does my reissued card need to be activated?",
             "社保卡激活以后能做什么", "what documents do I need to reissue my card", "社保卡有异常消费怎么办"]


@pytest.mark.product
def test_the_hundred_and_first_question_gets_the_first_ones_answer(product):
    first = [texts(product.say("long-faq", question)) for question in QUESTIONS]
    for turn in range(len(QUESTIONS), 102):
        assert product.say("long-faq", QUESTIONS[turn % len(QUESTIONS)])
    assert [texts(product.say("long-faq", question)) for question in QUESTIONS] == first
    assert len(product.stored_user_texts("long-faq")) == 102 + len(QUESTIONS)


@pytest.mark.product
def test_a_form_after_a_hundred_questions_runs_as_in_a_new_conversation(product):
    for turn in range(100):
        product.say("long-form", QUESTIONS[turn % len(QUESTIONS)])
    # The task, a name, an ID number whose check digit is wrong, a question in the form, cancel.
    for message in ("帮我查一下社保卡状态", "张三", "110105194912310021", "补卡要带什么材料", "算了"):
        assert texts(product.say("long-form", message)) == texts(product.say("new-form", message))
