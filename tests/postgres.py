"""The machine's PostgreSQL for tests: fresh databases on 127.0.0.1:5432.

Without a reachable server, tests that need one fail when CI is set (CI must
test PostgreSQL; scripts/ensure_services.sh starts it) and skip otherwise.
"""
from __future__ import annotations

import contextlib
import getpass
import os
import secrets
from typing import Iterator

import pytest

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_ADMIN_DB = "test"


def postgres_admin():
    """(connection, user) on the `test` database with autocommit, or (None, reason)."""
    import psycopg2

    reasons = []
    for user in dict.fromkeys([getpass.getuser(), "root", "postgres"]):
        try:
            connection = psycopg2.connect(
                host=PG_HOST, port=PG_PORT, dbname=PG_ADMIN_DB, user=user, connect_timeout=5
            )
            connection.autocommit = True
            return connection, user
        except psycopg2.Error as error:
            reasons.append(f"{user}: {str(error).strip().splitlines()[0] if str(error).strip() else error}")
    return None, "; ".join(reasons)


def unavailable(reason: str) -> None:
    message = f"PostgreSQL on {PG_HOST}:{PG_PORT} (database {PG_ADMIN_DB}) is not reachable: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set: PostgreSQL is required; scripts/ensure_services.sh starts it)")
    pytest.skip(message)


@contextlib.contextmanager
def fresh_database(prefix: str, host: str = PG_HOST, port: int = PG_PORT) -> Iterator[str]:
    """A new, empty database (its SQLAlchemy URL through host:port), dropped afterwards."""
    admin, user = postgres_admin()
    if admin is None:
        unavailable(user)
    database = f"{prefix}_{secrets.token_hex(6)}"
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{database}"')
    try:
        yield f"postgresql+psycopg2://{user}@{host}:{port}/{database}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()
