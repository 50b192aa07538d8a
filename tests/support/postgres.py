"""The machine's PostgreSQL for tests: fresh databases on 127.0.0.1:5432.

They connect as the role `helpdesk` with the password libpq reads from
PGPASSFILE (both made by scripts/ensure_services.sh; the server's own
authentication rules are not touched). Like every service the tests use, a
server that does not answer fails the test that needs it: `make test` brings it
up (scripts/ensure_services.sh), `make test-fast` runs no test marked `postgres`.
"""
from __future__ import annotations

import contextlib
import os
import secrets
from typing import Iterator

import pytest

from tests.support.markers import require
from tests.support import personal_values

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_ADMIN_DB = "test"
PG_ROLE = "helpdesk"  # scripts/ensure_services.sh creates it


def postgres_admin():
    """(connection, user) on the `test` database with autocommit, or (None, reason)."""
    import psycopg2

    from bot.core.settings import resolved

    passfile = resolved()["PGPASSFILE"]
    if not os.path.exists(passfile):
        return None, f"no password file {passfile} (scripts/ensure_services.sh postgres writes it)"
    os.environ.setdefault("PGPASSFILE", passfile)  # for the products the tests start, and SQLAlchemy here
    try:
        connection = psycopg2.connect(host=PG_HOST, port=PG_PORT, dbname=PG_ADMIN_DB, user=PG_ROLE,
                                      passfile=passfile, connect_timeout=5)
    except psycopg2.Error as error:
        return None, f"{PG_ROLE}: {str(error).strip().splitlines()[0] if str(error).strip() else error}"
    connection.autocommit = True
    return connection, PG_ROLE


def unavailable(reason: str) -> None:
    pytest.fail(f"PostgreSQL on {PG_HOST}:{PG_PORT} (database {PG_ADMIN_DB}) is not reachable: {reason}; "
                "scripts/ensure_services.sh starts it (make test runs it)", pytrace=False)


@contextlib.contextmanager
def fresh_database(prefix: str, host: str = PG_HOST, port: int = PG_PORT) -> Iterator[str]:
    """A new, empty database (its SQLAlchemy URL through host:port), dropped afterwards."""
    require("postgres", "uses PostgreSQL")
    admin, user = postgres_admin()
    if admin is None:
        unavailable(user)
    database = f"{prefix}_{secrets.token_hex(6)}"
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{database}"')
    try:
        yield f"postgresql+psycopg2://{user}@{host}:{port}/{database}"
    finally:
        personal_values.keep_database(f"postgresql+psycopg2://{user}@{host}:{port}/{database}")
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()
