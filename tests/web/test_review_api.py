"""The review inbox's API (bot/web/staff/review_routes.py) against a real web process on SQLite and
PostgreSQL (Rasa and the backend down): facts rows written as the indexer writes them, collected
when a reviewer asks (the indexer's refresh runs review.collect), listed, labelled, dismissed; the
roles (an agent gets 403); the page itself for a reviewer and not for an agent."""
from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import create_engine, text

from bot.db import Database
from bot.insights.facts import InsightTurn, group_key, local_day
from tests.support.personal_values import typed
from tests.support.web import staff_database, start_web
from tests.web.test_staff_roles import add, logged_in

T0 = dt.datetime(2026, 11, 2, 8, 0, 0)
_ids = itertools.count(1)


def start_review_web(directory, db_url):
    """A web process alone whose tracker store is an empty one of its own (nothing of the machine's
    var/tracker.db is indexed): the facts come from the tests."""
    tracker = directory / "tracker.db"
    engine = create_engine(f"sqlite:///{tracker}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), "
                                "type_name VARCHAR(255), timestamp FLOAT, intent_name VARCHAR(255), "
                                "action_name VARCHAR(255), data TEXT)"))
    engine.dispose()
    return start_web(directory, db_url, TRACKER_DB_URL=f"sqlite:///{tracker}")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def web(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp(f"review-{request.param}")
    with staff_database(request.param, directory) as db_url:
        server = start_review_web(directory, db_url)
        yield server
        server.group.stop()


@pytest.fixture(scope="module")
def people(web):
    admin, _ = logged_in(web)
    add(admin, "reviewer1", "reviewer")
    add(admin, "agent1", "agent")
    reviewer, _ = logged_in(web, "reviewer1", "a-long-enough-password")
    agent, _ = logged_in(web, "agent1", "a-long-enough-password")
    return {"admin": admin, "reviewer": reviewer, "agent": agent}


@pytest.fixture(autouse=True)
def empty_inbox(web):
    web.execute("DELETE FROM review_items")


def add_turns(web, *turns):
    db = Database(web.db_url)
    try:
        with db.write() as session:
            for words, outcome, minutes, extra in turns:
                at = T0 + dt.timedelta(minutes=minutes)
                number = next(_ids) + 10_000 * (web.db_url.startswith("postgresql"))
                fields = dict(event_id=number, conversation="c1", session_id=0, at=at, day=local_day(at),
                              channel="web", language="zh", text=words, norm=group_key(words),
                              intent="nlu_fallback", topic=None, predicted="faq/reissue_fee", confidence=0.31,
                              outcome=outcome, handoff=False, answer_id=f"b{number}", model_id="20261101-model")
                fields.update(extra)
                session.add(InsightTurn(**fields))
            session.commit()
    finally:
        db.dispose()


def inbox(client, **params):
    response = client.get("/api/staff/review", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_reviewer_sees_the_items_newest_first_with_what_the_issue_lists(web, people):
    add_turns(web, ("社保卡能当公交卡用吗", "fallback", 1, {}),
              ("社保卡能当公交卡用吗？", "out_of_scope", 5, {}),
              ("补卡多少钱来着", "low_confidence", 3, {"intent": "faq", "confidence": 0.42}),
              ("转人工", "answered", 4, {"handoff": True, "intent": "human_handoff",
                                         "predicted": "human_handoff", "confidence": 0.97}))
    data = inbox(people["reviewer"])
    items = data["items"]
    assert [(i["kind"], i["text"], i["count"]) for i in items] == [
        ("fallback", "社保卡能当公交卡用吗？", 2), ("handoff", "转人工", 1), ("low_confidence", "补卡多少钱来着", 1)]
    first = items[0]
    assert {"id", "kind", "text", "language", "predicted", "confidence", "count", "model_id", "last_at", "status",
            "label"} <= set(first)
    assert first["language"] == "zh" and first["predicted"] == "faq/reissue_fee"
    assert first["confidence"] == pytest.approx(0.31) and first["model_id"] == "20261101-model"
    assert first["status"] == "open" and first["last_at"] == "2026-11-02T08:05:00Z"
    labels = {label["value"]: label for label in data["labels"]}
    assert labels["reissue_fee"]["kind"] == "faq" and labels["reissue_fee"]["zh"]
    assert {"out_of_scope", "check_card_status", "new_topic"} <= set(labels)
    assert "faq" not in labels and not any(value.startswith("EXTERNAL_") for value in labels)
    assert [i["kind"] for i in inbox(people["admin"], kind="handoff")["items"]] == ["handoff"]


def test_label_dismiss_and_what_is_refused(web, people):
    add_turns(web, ("社保卡丢了在外地能补吗", "fallback", 10, {}), ("你好呀机器人", "out_of_scope", 11, {}),
              ("我想做个新业务", "fallback", 12, {}))
    reviewer = people["reviewer"]
    by_text = {i["text"]: i["id"] for i in inbox(reviewer)["items"]}

    labelled = reviewer.post(f"/api/staff/review/{by_text['社保卡丢了在外地能补吗']}",
                             json={"label": "cross_region_use", "note": "问的是异地"})
    assert labelled.status_code == 200, labelled.text
    item = labelled.json()["item"]
    assert (item["status"], item["label"], item["note"], item["reviewed_by"]) == (
        "labelled", "cross_region_use", "问的是异地", "reviewer1")
    as_training = reviewer.post(f"/api/staff/review/{by_text['你好呀机器人']}", json={"label": "faq/reissue_fee"})
    assert as_training.json()["item"]["label"] == "reissue_fee"  # the training data's spelling is understood

    new_topic = f"/api/staff/review/{by_text['我想做个新业务']}"
    assert reviewer.post(new_topic, json={"label": "new_topic"}).json()["error"]["code"] == "note_required"
    assert reviewer.post(new_topic, json={"label": "pension_amount"}).json()["error"]["code"] == "unknown_label"
    assert reviewer.post(new_topic, json={"label": "EXTERNAL_handoff_closed"}).status_code == 422
    assert reviewer.post(new_topic, json={"label": "faq"}).status_code == 422
    assert reviewer.post(new_topic, json={"label": "greet", "dismiss": True}).status_code == 422
    assert reviewer.post(new_topic, json={"dismiss": False}).status_code == 422
    assert reviewer.post(new_topic, json={"label": "greet", "extra": 1}).status_code == 422
    assert reviewer.post(new_topic, json={"note": "x" * 501, "label": "new_topic"}).status_code == 413
    assert reviewer.post("/api/staff/review/999999", json={"label": "greet"}).json()["error"]["code"] == \
        "review_item_not_found"
    without_csrf = reviewer.post(new_topic, json={"dismiss": True}, headers={"X-CSRF-Token": ""})
    assert without_csrf.json()["error"]["code"] == "csrf_token_invalid"

    dismissed = reviewer.post(new_topic, json={"dismiss": True})
    assert dismissed.status_code == 200 and dismissed.json()["item"]["status"] == "dismissed"

    assert inbox(reviewer)["items"] == []  # nothing open
    assert [i["text"] for i in inbox(reviewer, status="labelled")["items"]] == ["你好呀机器人", "社保卡丢了在外地能补吗"]
    assert [i["text"] for i in inbox(reviewer, status="dismissed")["items"]] == ["我想做个新业务"]
    assert len(inbox(reviewer, status="all")["items"]) == 3
    assert reviewer.get("/api/staff/review", params={"status": "closed"}).status_code == 422
    assert reviewer.get("/api/staff/review", params={"kind": "angry"}).status_code == 422


def test_a_note_is_kept_redacted(web, people):
    """(The session's end scans the staff database for the typed values: tests/support/personal_values.py.)"""
    add_turns(web, ("能帮我查下别人的卡吗", "fallback", 20, {}))
    reviewer = people["reviewer"]
    (item,) = inbox(reviewer)["items"]
    phone, id_number = typed("13800000002", "phone number"), typed("440524188001010014", "ID number")
    response = reviewer.post(f"/api/staff/review/{item['id']}",
                             json={"label": "new_topic", "note": f"市民留了电话 {phone} 和身份证 {id_number}"})
    assert response.json()["item"]["note"] == "市民留了电话 138****0002 和身份证 440524********0014"
    assert web.scalar("SELECT note FROM review_items WHERE id = :i", i=item["id"]) == response.json()["item"]["note"]


def test_roles_an_agent_gets_403_on_the_api_and_the_page(web, people):
    agent = people["agent"]
    assert agent.get("/api/staff/review").json()["error"]["code"] == "forbidden"
    assert agent.post("/api/staff/review/1", json={"dismiss": True}).status_code == 403
    assert agent.get("/staff/review").status_code == 403
    assert people["reviewer"].get("/staff/review").status_code == 200
    assert people["admin"].get("/staff/review").status_code == 200
    with web.client() as anonymous:
        assert anonymous.get("/api/staff/review").status_code == 401
        page = anonymous.get("/staff/review")
        assert page.status_code == 303 and page.headers["location"] == "/staff/login"
