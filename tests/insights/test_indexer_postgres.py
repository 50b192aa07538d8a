"""The indexer with the tracker store and the staff database on PostgreSQL (as in the cluster): the
known conversations give the figures counted by hand, a second indexer waits for the lease, retention
purges; the settle wait (a smaller id may still be committing) is what lets it read at all."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import create_engine, text

from bot.insights import analytics, facts, indexer
from bot.insights.indexer import Indexer
from bot.web.staff.store import open_store
from tests.insights.known_conversations import DAY1, DAY2, DAY3, EXPECTED, OPAQUE, known_events, ratings
from tests.support.postgres import fresh_database

pytestmark = pytest.mark.postgres

DDL = """CREATE TABLE events (id SERIAL PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL,
    timestamp DOUBLE PRECISION, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"""


def test_postgresql_tracker_and_staff_database(monkeypatch):
    convs = known_events()
    with fresh_database("insights_tracker") as tracker_url, fresh_database("insights_staff") as staff_url:
        engine = create_engine(tracker_url, future=True)
        with engine.begin() as connection:
            connection.execute(text(DDL))
            connection.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, :t, :ts, :d)"),
                               [{"s": s, "t": t, "ts": ts, "d": json.dumps(d, ensure_ascii=False)}
                                for s, t, ts, d in convs["_events"]])
        engine.dispose()
        db = open_store(staff_url)
        try:
            with db.write() as session:
                for sql, params in ratings(convs):
                    session.execute(text(sql), params)
                session.commit()
            first = Indexer(tracker_url, db, OPAQUE, owner="first")
            assert first.run() == 0  # nothing has settled yet: it has only just seen the highest id
            monkeypatch.setattr(indexer, "SETTLE_SECONDS", 0.0)
            second = Indexer(tracker_url, db, OPAQUE, owner="second")
            assert first._claim()
            assert second.run() == 0  # the lease is the first's
            first._release()
            assert second.run() == len(convs["_events"])
            with db.read() as session:
                figures = analytics.figures(session, DAY1, DAY2)
            figures.pop("unanswered"), figures.pop("indexed_event_id")
            assert figures == EXPECTED
            with db.write() as session:
                assert facts.purge(session, dt.datetime.combine(DAY3, dt.time())) == 5
                session.commit()
            first.close()
            second.close()
        finally:
            db.dispose()
