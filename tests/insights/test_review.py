"""The review inbox's items (bot/insights/review.py) built from the facts tables, on SQLite and
PostgreSQL: grouping by kind and similar text, each turn and each "down" rating counted once
whichever is indexed first, labels and dismissals kept as new turns come, retention."""
from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import select

from bot.insights import review
from bot.insights.facts import InsightTurn, group_key, local_day
from bot.web.ratings import MessageFeedback
from bot.web.staff.store import open_store
from tests.support.postgres import fresh_database

T0 = dt.datetime(2026, 11, 2, 8, 0, 0)
_ids = itertools.count(1)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request, tmp_path):
    if request.param == "sqlite":
        database = open_store(f"sqlite:///{tmp_path / 'staff.db'}")
        yield database
        database.dispose()
    else:
        with fresh_database("review_test") as url:
            database = open_store(url)
            yield database
            database.dispose()


def turn(session, text, outcome, minutes=0, handoff=False, conversation="c1", answer_id=None,
         predicted="faq/reissue_fee", confidence=0.3, language="zh", model_id="m1"):
    at = T0 + dt.timedelta(minutes=minutes)
    number = next(_ids)
    session.add(InsightTurn(event_id=number, conversation=conversation, session_id=0, at=at, day=local_day(at),
                            channel="web", language=language, text=text, norm=group_key(text),
                            intent="nlu_fallback", topic=None, predicted=predicted, confidence=confidence,
                            outcome=outcome, handoff=handoff, answer_id=answer_id or f"b{number}",
                            model_id=model_id))
    session.flush()


def rate_down(session, conversation, message_id, rating="down"):
    session.add(MessageFeedback(conversation=conversation, message_id=message_id, rating=rating,
                                created_at=T0))
    session.flush()


def collect(db):
    with db.write() as session:
        added = review.collect(session)
        session.commit()
    return added


def all_items(db):
    with db.read() as session:
        return {(i["kind"], i["text"]): i for i in review.items(session, status=None)}


def test_turns_group_by_kind_and_similar_text_newest_first(db):
    with db.write() as session:
        turn(session, "社保卡能当公交卡用吗", "fallback", minutes=1)
        turn(session, "社保卡 能当公交卡用吗？", "out_of_scope", minutes=3, model_id="m2")  # same group
        turn(session, "补卡大概多少钱", "low_confidence", minutes=2, confidence=0.45)
        turn(session, "我要找人工", "answered", minutes=4, handoff=True, predicted="human_handoff", confidence=0.9)
        turn(session, "补卡要多久", "answered", minutes=5, confidence=0.95)  # answered well: nothing
        turn(session, "（坐席接管中的消息）", "held", minutes=6, predicted=None, confidence=None)
        session.commit()
    assert collect(db) == 4
    with db.read() as session:
        listed = review.items(session)
    assert [(i["kind"], i["count"]) for i in listed] == [("handoff", 1), ("fallback", 2), ("low_confidence", 1)]
    fallback = listed[1]
    assert fallback["text"] == "社保卡 能当公交卡用吗？"  # the latest example
    assert fallback["model_id"] == "m2" and fallback["status"] == "open" and fallback["label"] is None
    assert fallback["first_at"] == "2026-11-02T08:01:00Z" and fallback["last_at"] == "2026-11-02T08:03:00Z"
    assert listed[2]["predicted"] == "faq/reissue_fee" and listed[2]["confidence"] == pytest.approx(0.45)
    assert collect(db) == 0  # nothing new: nothing counted twice


def test_new_turns_count_on_an_item_and_leave_its_label_alone(db):
    with db.write() as session:
        turn(session, "能用社保卡坐地铁吗", "fallback")
        session.commit()
    collect(db)
    with db.write() as session:
        item_id = review.items(session)[0]["id"]
        review.label(session, item_id, "cross_region_use", "18888888888 的人问的", "reviewer1")
        session.commit()
    with db.write() as session:
        turn(session, "能用社保卡坐地铁吗?", "fallback", minutes=10)
        turn(session, "能用社保卡坐地铁吗", "fallback", minutes=11)
        session.commit()
    assert collect(db) == 2
    with db.read() as session:
        (item,) = review.items(session, status=None)
    assert item["count"] == 3 and item["status"] == "labelled" and item["label"] == "cross_region_use"
    assert item["note"] == "188****8888 的人问的" and item["reviewed_by"] == "reviewer1"
    assert item["last_at"] == "2026-11-02T08:11:00Z"


def test_a_down_rating_counts_once_whether_it_comes_before_or_after_its_turn_is_indexed(db):
    with db.write() as session:
        turn(session, "补卡要带什么", "answered", conversation="a", answer_id="b100", confidence=0.9)
        rate_down(session, "a", "b100")  # both before the first collect
        rate_down(session, "b", "b200")  # the rating first; its turn indexed later
        rate_down(session, "c", "b300", rating="up")  # up: nothing to review
        session.commit()
    assert collect(db) == 1
    with db.write() as session:
        turn(session, "补卡要带什么?", "answered", conversation="b", answer_id="b200", confidence=0.9)
        turn(session, "补卡要带什么", "answered", conversation="d", answer_id="b400", confidence=0.9)
        turn(session, "补卡要带什么呢", "answered", conversation="c", answer_id="b300", confidence=0.9)
        session.commit()
    assert collect(db) == 1  # b's pair
    with db.write() as session:
        rate_down(session, "d", "b400")  # the turn first, its rating later
        rate_down(session, "a", "b999")  # a rating of an answer never indexed: nothing
        session.commit()
    assert collect(db) == 1
    assert collect(db) == 0
    items = all_items(db)
    assert list(items) == [("down", "补卡要带什么")]
    assert items[("down", "补卡要带什么")]["count"] == 3


def test_collect_reads_in_batches(db):
    with db.write() as session:
        for n in range(7):
            turn(session, f"第{n}个没答上的问题", "fallback", minutes=n)
        session.commit()
    with db.write() as session:
        assert review.collect(session, batch=3) == 7
        session.commit()
    with db.read() as session:
        assert len(review.items(session)) == 1  # digits fold: one group of 7
        assert review.items(session)[0]["count"] == 7


def test_dismiss_and_the_status_filter(db):
    with db.write() as session:
        turn(session, "你们几点下班", "out_of_scope")
        turn(session, "天气怎么样", "out_of_scope", minutes=1)
        session.commit()
    collect(db)
    with db.write() as session:
        first = review.items(session)[-1]["id"]
        dismissed = review.dismiss(session, first, "reviewer1")
        assert review.dismiss(session, 999999, "reviewer1") is None
        session.commit()
    assert dismissed["status"] == "dismissed" and dismissed["label"] is None
    with db.read() as session:
        assert [i["text"] for i in review.items(session)] == ["天气怎么样"]
        assert [i["text"] for i in review.items(session, status="dismissed")] == ["你们几点下班"]
        assert [i["text"] for i in review.items(session, status=None, kind="fallback")] == ["天气怎么样", "你们几点下班"]


def test_purge_deletes_the_items_last_seen_before_the_cutoff_but_training_data(db):
    with db.write() as session:
        for n, words in enumerate(["旧的问题", "旧的已标注", "旧的新主题", "旧的已忽略"]):
            turn(session, words, "fallback", minutes=n)
        turn(session, "新的问题", "fallback", minutes=60)
        session.commit()
    collect(db)
    with db.write() as session:
        ids = {i["text"]: i["id"] for i in review.items(session)}
        review.label(session, ids["旧的已标注"], "reissue_fee", None, "reviewer1")
        review.label(session, ids["旧的新主题"], review.NEW_TOPIC, "一个新主题", "reviewer1")
        review.dismiss(session, ids["旧的已忽略"], "reviewer1")
        session.commit()
    with db.write() as session:
        assert review.purge(session, T0 + dt.timedelta(minutes=30)) == 3
        session.commit()
    with db.read() as session:
        assert sorted(i.text for i in session.execute(select(review.ReviewItem)).scalars()) == ["新的问题", "旧的已标注"]
