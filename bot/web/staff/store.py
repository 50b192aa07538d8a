"""The staff database (STAFF_DB_URL; SQLite by default, PostgreSQL works).

Engine and read/write sessions are `bot.db.Database`, as the card backend's
(SQLite: WAL, busy timeout, writers take the lock at BEGIN). The schema is
three small tables created if missing; there is nothing to migrate yet.
"""
from __future__ import annotations

import datetime as dt

from bot.db import Database
from bot.web.staff.models import Base


def utcnow() -> dt.datetime:
    """Naive UTC (the columns are timezone-less on every database)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def open_store(url: str) -> Database:
    db = Database(url)
    Base.metadata.create_all(db.engine)
    return db
