"""The real backend as a subprocess, once against SQLite and once against PostgreSQL.

`backend` is session-scoped and parametrized over [sqlite, postgresql]: a
fresh SQLite file, or a fresh PostgreSQL database (created on the `test`
database of the local server, dropped afterwards; those tests are marked
`postgres`, and fail when the server does not answer).
"""
from __future__ import annotations

import contextlib

import pytest

from tests.support.backend import start_backend
from tests.support.postgres import fresh_database


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp(f"backend-{request.param}")
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            db_url = f"sqlite:///{directory / 'backend.db'}"
        else:
            db_url = stack.enter_context(fresh_database("backend_test"))
        running = start_backend(request.param, db_url, directory)
        yield running
        running.group.stop()
        running.db.dispose()


@pytest.fixture()
def client(backend):
    with backend.client() as c:
        yield c
