"""The card backend's database: `bot.db.Database` on BACKEND_DB_URL, its
schema brought up to date by the Alembic migrations in migrations/."""
from __future__ import annotations

from pathlib import Path

from bot.db import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def open_database(url: str) -> Database:
    """The database at `url`, migrated to the latest revision."""
    db = Database(url)
    db.migrate(MIGRATIONS)
    return db
