"""The indexer (bot/insights/indexer.py) on a known set of tracker events in SQLite: the facts it
writes, the figures they give (counted by hand: tests/insights/known_conversations.py), batches that
split a turn, events added later, the lease, retention (facts.purge)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text, update

from bot.insights import analytics, facts
from bot.insights.facts import InsightConversation, InsightProgress, InsightTurn
from bot.insights.indexer import PROGRESS, Indexer, index
from bot.web.staff.store import open_store
from tests.insights.known_conversations import (
    DAY1, DAY2, DAY3, EXPECTED, EXPECTED_UNANSWERED, MODEL, OPAQUE, key, known_events, ratings, write_tracker,
)



@pytest.fixture()
def known(tmp_path):
    convs = known_events()
    tracker = tmp_path / "tracker.db"
    write_tracker(tracker, convs["_events"])
    db = open_store(f"sqlite:///{tmp_path / 'staff.db'}")
    with db.write() as session:
        for sql, params in ratings(convs):
            session.execute(text(sql), params)
        session.commit()
    yield f"sqlite:///{tracker}", db, convs
    db.dispose()


def rows(db, model, order):
    with db.read() as session:
        return [{c.name: getattr(r, c.name) for c in model.__table__.columns if c.name != "id"}
                for r in session.execute(select(model).order_by(*order)).scalars()]


def test_the_known_conversations_give_the_figures_counted_by_hand(known):
    tracker, db, convs = known
    assert index(tracker, db, OPAQUE) == len(convs["_events"])
    with db.read() as session:
        figures = analytics.figures(session, DAY1, DAY2)
    unanswered = figures.pop("unanswered")
    assert figures.pop("indexed_event_id") == len(convs["_events"])
    assert figures == EXPECTED
    assert [(u["text"], u["language"], u["count"], u["outcome"]) for u in unanswered] == EXPECTED_UNANSWERED
    with db.read() as session:  # the next day alone: E, the second session of A's sender
        day3 = analytics.figures(session, DAY3, DAY3)
    assert (day3["conversations"], day3["top_topics"], day3["feedback"], day3["csat"]["count"]) == \
        (1, [{"key": "reissue_documents", "count": 1}], {"up": 1, "down": 0}, 1)


def test_each_citizen_message_is_a_turn_with_what_nlu_made_of_it(known):
    tracker, db, convs = known
    index(tracker, db, OPAQUE)
    with db.read() as session:
        turns = {t.text: t for t in session.execute(select(InsightTurn)).scalars()}
        sessions = session.execute(select(InsightConversation).order_by(InsightConversation.started_at)).scalars().all()
    assert len(turns) == 10 and all(t.model_id == MODEL for t in turns.values())
    fee = turns["补卡要钱吗"]
    assert (fee.conversation, fee.channel, fee.language, fee.intent, fee.topic, fee.predicted, fee.outcome,
            fee.handoff, fee.answer_id, fee.day) == \
        (key("sender-a"), "web", "zh", "faq", "reissue_fee", "faq/reissue_fee", "answered", False,
         convs["a"].answers[0], DAY1)
    assert fee.confidence == pytest.approx(0.855)
    low = turns["补卡  要钱吗？"]
    assert (low.channel, low.outcome, low.norm, low.answer_id) == ("wechat", "low_confidence", fee.norm,
                                                                   convs["b"].answers[1])
    fell = turns["asdfgh"]
    assert (fell.intent, fell.topic, fell.predicted, fell.outcome, fell.day) == \
        ("nlu_fallback", "nlu_fallback", "faq/activation_how", "fallback", DAY2)  # 01:30 local on DAY2
    assert fell.confidence == pytest.approx(0.2)
    assert turns["asdfgh!"].norm == fell.norm == "asdfgh"
    held = turns["你好在吗"]
    assert (held.intent, held.topic, held.outcome, held.answer_id) == (None, None, "held", None)  # staff answered
    assert turns["我要找人工"].handoff and turns["我要人工"].handoff and not turns["谢谢"].handoff
    assert [(s.conversation, s.turns, s.messages, s.fallbacks, s.channel) for s in sessions] == [
        (key("sender-a"), 2, 4, 0, "web"), (key("sender-b"), 2, 4, 0, "wechat"), (key("sender-f"), 0, 0, 0, None),
        (key("sender-d"), 3, 6, 2, "web"), (key("sender-c"), 2, 5, 0, "web"), (key("sender-a"), 1, 2, 0, "web")]
    c = sessions[4]
    assert (c.claimed_at - c.handoff_at).total_seconds() == 60
    assert sessions[3].handoff_at is not None and sessions[3].claimed_at is None
    assert sessions[0].session_id != sessions[5].session_id  # one sender, two Rasa sessions


def test_batches_that_split_a_turn_give_the_same_facts(known, tmp_path):
    tracker, db, convs = known
    index(tracker, db, OPAQUE)
    small = open_store(f"sqlite:///{tmp_path / 'small.db'}")
    try:
        with small.write() as session:
            for sql, params in ratings(convs):
                session.execute(text(sql), params)
            session.commit()
        assert index(tracker, small, OPAQUE, batch=3) == len(convs["_events"])
        assert index(tracker, small, OPAQUE, batch=3) == 0
        for model, order in ((InsightTurn, [InsightTurn.event_id]),
                             (InsightConversation, [InsightConversation.conversation, InsightConversation.session_id])):
            assert rows(small, model, order) == rows(db, model, order)
    finally:
        small.dispose()


def test_events_stored_later_are_indexed_once(known, tmp_path):
    tracker, db, convs = known
    events = convs["_events"]
    path = tmp_path / "later.db"
    write_tracker(path, events[:20])
    later = f"sqlite:///{path}"
    assert index(later, db, OPAQUE) == 20
    assert index(later, db, OPAQUE) == 0
    write_tracker(path, events[20:])
    assert index(later, db, OPAQUE) == len(events) - 20
    with db.read() as session:
        assert session.execute(select(func.count()).select_from(InsightTurn)).scalar() == 10
        assert session.execute(select(InsightProgress.last_event_id)).scalar() == len(events)


def test_one_process_indexes_at_a_time(known):
    tracker, db, _ = known
    first, second = Indexer(tracker, db, OPAQUE, owner="one"), Indexer(tracker, db, OPAQUE, owner="two")
    assert first._claim()
    assert second.run() == 0  # the lease is the first's
    first._release()
    assert second.run() > 0
    with db.write() as session:  # a lease that ran out is taken over
        session.execute(update(InsightProgress).where(InsightProgress.name == PROGRESS)
                        .values(lease_owner="gone", lease_until=dt.datetime(2000, 1, 1)))
        session.commit()
    assert first.run() == 0 and first._claim()


def test_a_tracker_store_not_made_yet_is_nothing_to_index(tmp_path):
    db = open_store(f"sqlite:///{tmp_path / 'staff.db'}")
    try:
        assert index(f"sqlite:///{tmp_path / 'none.db'}", db, OPAQUE) == 0
        assert not (tmp_path / "none.db").exists()
        (tmp_path / "empty.db").touch()
        assert index(f"sqlite:///{tmp_path / 'empty.db'}", db, OPAQUE) == 0
    finally:
        db.dispose()


def test_purge_deletes_the_facts_of_sessions_older_than_the_cutoff(known):
    tracker, db, _ = known
    index(tracker, db, OPAQUE)
    with db.write() as session:
        assert facts.purge(session, dt.datetime.combine(DAY3, dt.time())) == 5  # all but E
        session.commit()
    with db.read() as session:
        left = session.execute(select(InsightConversation)).scalars().all()
        texts = session.execute(select(InsightTurn.text)).scalars().all()
    assert [(s.conversation, s.turns) for s in left] == [(key("sender-a"), 1)]
    assert texts == ["补卡要带什么材料"]


def test_a_rating_given_after_its_turn_was_indexed_reaches_the_turn(tmp_path):
    convs = known_events()
    tracker = tmp_path / "tracker.db"
    write_tracker(tracker, convs["_events"])
    db = open_store(f"sqlite:///{tmp_path / 'staff.db'}")
    try:
        index(f"sqlite:///{tracker}", db, OPAQUE)
        with db.write() as session:
            for sql, params in ratings(convs):
                session.execute(text(sql), params)
            session.commit()
        assert index(f"sqlite:///{tracker}", db, OPAQUE) == 0  # no new event; the ratings are copied
        with db.read() as session:
            rated = dict(session.execute(select(InsightTurn.text, InsightTurn.feedback)
                                         .where(InsightTurn.feedback.isnot(None))).all())
            figures = analytics.figures(session, DAY1, DAY2)
        assert rated == {"补卡要钱吗": "up", "补卡  要钱吗？": "down", "asdfgh": "down", "补卡要带什么材料": "up"}
        assert figures["feedback_by_topic"] == EXPECTED["feedback_by_topic"]
    finally:
        db.dispose()


def test_a_typed_status_change_is_a_citizen_message_and_claims_nothing(tmp_path):
    from tests.insights.known_conversations import Conversation, utc

    events = []
    c = Conversation(events, "sender-x", "rest", utc(DAY1, 9)).session()
    c.user("我要人工", "human_handoff", 0.97).bot("正在为您转接", custom={"handoff": {"status": "waiting", "id": 9}})
    c.user("/EXTERNAL_handoff_claimed", "EXTERNAL_handoff_claimed", 1.0).bot("?")
    write_tracker(tmp_path / "tracker.db", events)
    db = open_store(f"sqlite:///{tmp_path / 'staff.db'}")
    try:
        index(f"sqlite:///{tmp_path / 'tracker.db'}", db, OPAQUE)
        with db.read() as session:
            conversation = session.execute(select(InsightConversation)).scalar_one()
            texts = session.execute(select(InsightTurn.text).order_by(InsightTurn.id)).scalars().all()
        assert conversation.handoff_at is not None and conversation.claimed_at is None
        assert (conversation.turns, texts) == (2, ["我要人工", "/EXTERNAL_handoff_claimed"])
    finally:
        db.dispose()
