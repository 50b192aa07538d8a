"""Citizens' ratings over HTTP against the running product (bot/web/ratings.py):
an answer rated up or down once, the conversation 1 to 5 once; what the
tables keep (no conversation id in clear, the comment redacted)."""
from __future__ import annotations

import contextlib

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.support import personal_values

pytestmark = pytest.mark.product

ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"


def error_code(response, status):
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text
    return response.json()["error"]["code"]


@contextlib.contextmanager
def new_chat(url):
    with httpx.Client(base_url=url, timeout=60) as client:
        response = client.post("/api/chat/sessions")
        assert response.status_code == 201
        client.headers["X-Chat-Session"] = response.json()["session"]
        yield client


@pytest.fixture()
def chat(product):
    with new_chat(product.web_url) as client:
        yield client


def answered(chat, message="补卡要带什么材料"):
    """A turn: its bot messages, each with the id it has in the history."""
    response = chat.post("/api/chat/messages", json={"message": message})
    assert response.status_code == 200, response.text
    messages = response.json()["messages"]
    assert messages and all(m.get("id", "").startswith("b") for m in messages), messages
    return messages


def rows(product, table):
    engine = create_engine(product.env["STAFF_DB_URL"])
    try:
        with engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(text(f"SELECT * FROM {table}"))]
    finally:
        engine.dispose()


def test_an_answer_is_rated_once_and_the_history_says_so(chat):
    message = answered(chat)[0]
    history = chat.get("/api/chat/history").json()
    assert message["id"] in [m["id"] for m in history["messages"] if m["from"] == "bot"]
    assert history["feedback"] == {} and history["rated"] is False

    response = chat.post("/api/chat/feedback", json={"message_id": message["id"], "rating": "down"})
    assert response.status_code == 201, response.text
    assert error_code(chat.post("/api/chat/feedback", json={"message_id": message["id"], "rating": "up"}),
                      409) == "already_rated"
    assert chat.get("/api/chat/history").json()["feedback"] == {message["id"]: "down"}


def test_unknown_and_foreign_message_ids_are_refused(product, chat):
    mine = answered(chat)[0]
    with new_chat(product.web_url) as other:
        theirs = answered(other, "补办的社保卡需要重新激活吗?")[0]
        assert theirs["id"] != mine["id"]
        assert error_code(other.post("/api/chat/feedback", json={"message_id": mine["id"], "rating": "up"}),
                          404) == "unknown_message"
    assert error_code(chat.post("/api/chat/feedback", json={"message_id": theirs["id"], "rating": "up"}),
                      404) == "unknown_message"
    users = [m["id"] for m in chat.get("/api/chat/history").json()["messages"] if m["from"] == "user"]
    for message_id in ["b1", users[0]]:  # no such answer; the citizen's own message
        assert error_code(chat.post("/api/chat/feedback", json={"message_id": message_id, "rating": "up"}),
                          404) == "unknown_message"


def test_bad_feedback_and_rating_bodies(chat):
    message = answered(chat)[0]
    for rating in ["good", "", None, 1, ["up"]]:
        assert error_code(chat.post("/api/chat/feedback", json={"message_id": message["id"], "rating": rating}),
                          422) == "invalid_request"
    for message_id in [None, 7, "", "b" * 100]:
        assert error_code(chat.post("/api/chat/feedback", json={"message_id": message_id, "rating": "up"}),
                          422) == "invalid_request"
    for score in [0, 6, -1, "4", 4.5, True, None]:
        assert error_code(chat.post("/api/chat/rating", json={"score": score}), 422) == "invalid_score"
    assert error_code(chat.post("/api/chat/rating", json={"score": 3, "comment": 5}), 422) == "invalid_request"
    assert error_code(chat.post("/api/chat/rating", json={"score": 3, "comment": "x" * 501}), 413) == "too_long"
    for path in ["/api/chat/feedback", "/api/chat/rating"]:
        assert error_code(chat.post(path, content=b"{not json"), 400) == "invalid_json"
        assert error_code(chat.post(path, json=[1]), 400) == "invalid_json"
        assert error_code(httpx.post(str(chat.base_url) + path, json={"score": 4}), 403) == "invalid_session"
    assert chat.get("/api/chat/history").json()["feedback"] == {}  # nothing was stored


def test_a_conversation_is_rated_once_the_comment_redacted_and_no_id_kept(product, chat):
    message = answered(chat)[0]
    assert chat.post("/api/chat/feedback", json={"message_id": message["id"], "rating": "up"}).status_code == 201
    comment = personal_values.typed_in(f"很好。我的身份证 {ID_NUMBER}，电话 {PHONE}，验证码 482913")
    response = chat.post("/api/chat/rating", json={"score": 4, "comment": "  " + comment + "  "})
    assert response.status_code == 201, response.text
    assert error_code(chat.post("/api/chat/rating", json={"score": 5}), 409) == "already_rated"
    assert chat.get("/api/chat/history").json()["rated"] is True

    nonce = chat.headers["X-Chat-Session"].split(".")[0]
    ratings = [r for r in rows(product, "chat_conversation_ratings") if r["score"] == 4 and r["comment"]]
    stored = [r for r in ratings if r["comment"].startswith("很好。")]
    assert len(stored) == 1
    assert ID_NUMBER not in stored[0]["comment"] and PHONE not in stored[0]["comment"]
    assert "482913" not in stored[0]["comment"] and "110105" in stored[0]["comment"]  # masked, not dropped
    feedback = [r for r in rows(product, "chat_message_feedback") if r["message_id"] == message["id"]]
    assert len(feedback) == 1 and feedback[0]["conversation"] == stored[0]["conversation"]
    for row in feedback + stored:
        assert not any(nonce in str(value) for value in row.values()), row  # only a keyed hash of it
    assert set(feedback[0]) == {"id", "conversation", "message_id", "rating", "created_at"}  # no answer text


def test_new_chat_ends_the_session_but_it_can_still_be_rated_once(chat):
    answered(chat)
    assert chat.delete("/api/chat/sessions").json() == {"ended": True}
    assert error_code(chat.get("/api/chat/history"), 403) == "session_ended"
    assert chat.post("/api/chat/rating", json={"score": 2}).status_code == 201
    assert error_code(chat.post("/api/chat/rating", json={"score": 2}), 409) == "already_rated"


def test_a_goodbye_answer_ends_the_conversation(chat):
    answered(chat)
    goodbye = answered(chat, "再见")
    assert [m.get("end") for m in goodbye] == [True], goodbye
    history = chat.get("/api/chat/history").json()["messages"]
    assert [m["id"] for m in history if m.get("end")] == [goodbye[0]["id"]]
