"""The staff database (STAFF_DB_URL; SQLite by default, PostgreSQL works).

Engine and read/write sessions are `bot.db.Database`, as the card backend's
(SQLite: WAL, busy timeout, writers take the lock at BEGIN). The schema is a
few small tables created if missing; the columns added since the first
release (ADDED_COLUMNS) are added to an older database when it is opened.
"""
from __future__ import annotations


from sqlalchemy import inspect, text

from bot.db import Database
# The staff tables' Base (bot/web/staff/models.py) by way of bot/web/ratings.py, which
# puts the citizens' ratings on it: create_all makes those too.
from bot.web.ratings import Base
from bot.insights import facts  # the figures' facts tables (issue 13), on the same Base
from bot.insights import review  # the review inbox's tables (issue 13)

TABLE_MODULES = (facts, review)  # imported for their tables: create_all makes them too

# table -> (column, its DDL) added after the tables were first created, in order.
ADDED_COLUMNS = {
    "staff_users": (
        ("role", "VARCHAR(16) NOT NULL DEFAULT 'agent'"),
        ("display_name", "VARCHAR(64)"),
    ),
}


def _add_missing_columns(db: Database) -> None:
    with db.engine.begin() as connection:
        inspector = inspect(connection)
        for table, columns in ADDED_COLUMNS.items():
            present = {c["name"] for c in inspector.get_columns(table)}
            for name, ddl in columns:
                if name not in present:
                    connection.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}"))


def open_store(url: str) -> Database:
    db = Database(url)
    Base.metadata.create_all(db.engine)
    _add_missing_columns(db)
    return db
