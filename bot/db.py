"""Engine and sessions for a database URL: the card backend's (BACKEND_DB_URL)
and the web process's staff database (STAFF_DB_URL) both use `Database`.

SQLite: WAL journal, foreign keys on, a 30 s busy timeout, and transactions
begun by us (the pysqlite driver's own implicit BEGIN is turned off) so that
write sessions start with BEGIN IMMEDIATE: a writer takes the write lock
before it reads, which serialises writers instead of failing one of them with
"database is locked" when it tries to upgrade a read transaction.
PostgreSQL: READ COMMITTED (its default); conditional UPDATEs and SELECT ...
FOR UPDATE give the same guarantees.
"""
from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker


def utcnow() -> dt.datetime:
    """Now in naive UTC: every timestamp column of ours is timezone-less, on every database."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we send BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, future=True, hide_parameters=True, connect_args={"check_same_thread": False, "timeout": 30}
        )
        _sqlite_setup(engine)
        return engine
    return create_engine(
        url, future=True, hide_parameters=True, pool_pre_ping=True, pool_size=10, max_overflow=30, pool_timeout=30
    )


class Database:
    """`read()` and `write()` give a Session; the caller commits. Leaving the
    block closes the session, which rolls back whatever was not committed
    (loaded objects stay readable, detached)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        write_bind = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        self._read = sessionmaker(bind=self.engine, future=True, expire_on_commit=False)
        self._write = sessionmaker(bind=write_bind, future=True, expire_on_commit=False)

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose transaction takes the write lock at once on SQLite."""
        with self._write() as session:
            yield session

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            connection.rollback()

    def migrate(self, script_location: Path, revision: str = "head") -> None:
        """Brings the schema to `revision` with the Alembic migrations in `script_location`."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(script_location))
        with self.engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()

    def dispose(self) -> None:
        self.engine.dispose()
