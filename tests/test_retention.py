"""Retention (bot/ops/retention.py, `python -m bot purge`): conversations
older than RETENTION_DAYS go from the tracker store, whole, with the card
backend's hand-over tickets of the same age; nothing newer is touched."""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time

import httpx
import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore

from tests.support.backend import sqlite_backend

DAY = 24 * 3600


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    with sqlite_backend(tmp_path_factory, "retention-backend") as running:
        yield running


def tracker_store(path) -> str:
    """A tracker store's table (Rasa's own model) holding three conversations:
    `old` (last event 200 days ago), `recent` (10 days), `mixed` (old events
    and one of yesterday: kept whole)."""
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    SQLTrackerStore.SQLEvent.metadata.create_all(engine)
    now = time.time()
    rows = [("old", now - 201 * DAY), ("old", now - 200 * DAY), ("recent", now - 10 * DAY),
            ("mixed", now - 300 * DAY), ("mixed", now - 1 * DAY)]
    with engine.begin() as connection:
        for sender, at in rows:
            connection.execute(SQLTrackerStore.SQLEvent.__table__.insert().values(
                sender_id=sender, type_name="user", timestamp=at, intent_name="greet", action_name=None,
                data=json.dumps({"event": "user", "timestamp": at, "text": "你好"})))
    engine.dispose()
    return url


def stored(url: str) -> dict:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return dict(connection.execute(sa.text(
                "SELECT sender_id, COUNT(*) FROM events GROUP BY sender_id")).all())
    finally:
        engine.dispose()


def open_ticket(backend) -> str:
    response = httpx.post(f"{backend.url}/v1/handoff-tickets", timeout=10,
                          headers={**backend.auth, "Idempotency-Key": secrets.token_hex(8)},
                          json={"summary": "想找人工", "channel": "web", "language": "zh",
                                "conversation": f"web-{secrets.token_hex(6)}", "mode": "callback"})
    assert response.status_code == 201, response.text
    return response.json()["ticket_number"]


def test_purge_deletes_what_is_older_and_nothing_newer(backend, tmp_path):
    url = tracker_store(tmp_path / "tracker.db")
    old_ticket, new_ticket = open_ticket(backend), open_ticket(backend)
    backend.execute("UPDATE handoff_tickets SET created_at = :at, waiting_since = :at WHERE ticket_number = :n",
                    at="2020-01-01 00:00:00", n=old_ticket)
    env = {**os.environ, "TRACKER_DB_URL": url, "STAFF_DB_URL": f"sqlite:///{tmp_path / 'staff.db'}",
           "BACKEND_URL": backend.url,
           "BACKEND_SERVICE_TOKEN": backend.token, "RETENTION_DAYS": "180"}
    result = subprocess.run([sys.executable, "-m", "bot", "purge"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "deleted 1 conversations (2 events) and 1 hand-over tickets" in result.stdout
    assert stored(url) == {"recent": 1, "mixed": 2}
    with httpx.Client(base_url=backend.url, headers=backend.auth, timeout=10) as client:
        listed = {h["ticket_number"] for h in client.get("/v1/handoffs", params={"limit": 200}).json()["handoffs"]}
    assert new_ticket in listed and old_ticket not in listed
    assert [a.detail for a in backend.audit("retention_purge")]  # the audit log says what went (and stays)
    # Again: nothing more goes.
    again = subprocess.run([sys.executable, "-m", "bot", "purge"], env=env, capture_output=True, text=True,
                           timeout=120)
    assert "deleted 0 conversations (0 events) and 0 hand-over tickets" in again.stdout
    assert stored(url) == {"recent": 1, "mixed": 2}


def test_a_backend_away_is_reported_and_the_tracker_store_still_purged(tmp_path):
    url = tracker_store(tmp_path / "tracker.db")
    env = {**os.environ, "TRACKER_DB_URL": url, "STAFF_DB_URL": f"sqlite:///{tmp_path / 'staff.db'}",
           "BACKEND_URL": "http://127.0.0.1:9",
           "BACKEND_SERVICE_TOKEN": "x", "RETENTION_DAYS": "180", "LOG_LEVEL": "INFO"}
    result = subprocess.run([sys.executable, "-m", "bot", "purge"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1
    assert "backend unreachable" in result.stdout and "could not be reached" in result.stderr
    assert stored(url) == {"recent": 1, "mixed": 2}


def test_the_backend_refuses_a_purge_without_the_service_credential(backend):
    response = httpx.post(f"{backend.url}/v1/retention/purge", json={"older_than_days": 1}, timeout=10)
    assert response.status_code == 401
    response = httpx.post(f"{backend.url}/v1/retention/purge", json={"older_than_days": 0}, timeout=10,
                          headers=backend.auth)
    assert response.status_code == 422


def staff_store(path) -> str:
    """The web process's database with old and recent figures, review items
    (one of each age open, one old but labelled) and ratings."""
    import datetime as dt

    from bot.insights.facts import InsightConversation, InsightTurn, local_day
    from bot.insights.review import ReviewItem
    from bot.web.ratings import ConversationRating, MessageFeedback
    from bot.db import utcnow
    from bot.web.staff.store import open_store

    url = f"sqlite:///{path}"
    now = utcnow()
    old, recent = now - dt.timedelta(days=200), now - dt.timedelta(days=10)
    db = open_store(url)
    with db.write() as session:
        for number, (name, at) in enumerate((("old", old), ("recent", recent)), start=1):
            session.add(InsightConversation(conversation=name, session_id=number, channel="web", started_at=at,
                                            day=local_day(at), last_at=at, messages=2, turns=1, fallbacks=1))
            session.add(InsightTurn(event_id=number, conversation=name, session_id=number, at=at,
                                    day=local_day(at), channel="web", language="zh", text="社保卡能买菜吗", norm=name,
                                    intent="nlu_fallback", outcome="fallback"))
            session.add(ReviewItem(kind="fallback", norm=name, text="社保卡能买菜吗", count=1, first_at=at, last_at=at,
                                   status="open"))
            session.add(MessageFeedback(conversation=name, message_id="b1", rating="down", created_at=at))
            session.add(ConversationRating(conversation=name, score=2, created_at=at))
        session.add(ReviewItem(kind="fallback", norm="labelled", text="补卡要多久", count=3, first_at=old,
                               last_at=old, status="labelled", label="reissue_time"))
        session.commit()
    db.engine.dispose()
    return url


def staff_rows(url: str) -> dict:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return {table: sorted(connection.execute(sa.text(f"SELECT {column} FROM {table}")).scalars())
                    for table, column in (("insight_conversations", "conversation"), ("insight_turns", "conversation"),
                                          ("review_items", "norm"), ("chat_message_feedback", "conversation"),
                                          ("chat_conversation_ratings", "conversation"))}
    finally:
        engine.dispose()


def test_the_figures_review_items_and_ratings_go_with_their_conversations(backend, tmp_path):
    url, staff = tracker_store(tmp_path / "tracker.db"), staff_store(tmp_path / "staff.db")
    env = {**os.environ, "TRACKER_DB_URL": url, "STAFF_DB_URL": staff, "BACKEND_URL": backend.url,
           "BACKEND_SERVICE_TOKEN": backend.token, "RETENTION_DAYS": "180"}
    result = subprocess.run([sys.executable, "-m", "bot", "purge"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "1 review items, 2 ratings and the figures of 1 sessions" in result.stdout
    assert staff_rows(staff) == {"insight_conversations": ["recent"], "insight_turns": ["recent"],
                                 "review_items": ["labelled", "recent"], "chat_message_feedback": ["recent"],
                                 "chat_conversation_ratings": ["recent"]}
