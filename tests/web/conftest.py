"""The web process under test: alone (`web`: its own staff database on SQLite
and on PostgreSQL, Rasa and the backend down), or as part of the whole product
(the fixture `product` of tests/conftest.py)."""
from __future__ import annotations

import pytest

from tests.support.web import staff_database, start_web


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def web(request, tmp_path_factory):
    """A web process alone, Rasa and the backend down, staff database of each kind."""
    directory = tmp_path_factory.mktemp(f"web-{request.param}")
    with staff_database(request.param, directory) as db_url:
        server = start_web(directory, db_url)
        yield server
        server.group.stop()
