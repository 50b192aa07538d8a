"""The web process alone (`python -m bot.web serve` on a free port): its own
staff database on SQLite or PostgreSQL, Rasa and the backend where the test
says (by default nowhere: both "down"), and a staff login."""
from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from sqlalchemy import text

from bot.db import Database
from bot.ops.processes import Service, ServiceGroup, free_port
from tests.support.postgres import fresh_database
from tests.support.product import STAFF_PASSWORD, STAFF_USER
from tests.support import personal_values

CLOSED_URL = "http://127.0.0.1:9"  # nothing listens: Rasa or the backend "down"
WEB_SECRET_KEY = "test-web-secret-key"  # signs the chat session ids of every web process started alone


@dataclass
class WebServer:
    url: str
    env: dict
    db_url: str
    log_path: Path
    group: ServiceGroup

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    def execute(self, sql: str, **params) -> None:
        db = Database(self.db_url)
        try:
            with db.write() as session:
                session.execute(text(sql), params)
                session.commit()
        finally:
            db.dispose()

    def scalar(self, sql: str, **params):
        db = Database(self.db_url)
        try:
            with db.read() as session:
                return session.execute(text(sql), params).scalar()
        finally:
            db.dispose()


def web_environment(db_url: str, **overrides: str) -> dict:
    env = dict(os.environ)
    env.update(
        HELPDESK_HOST="127.0.0.1",
        WEB_PORT=str(free_port()),
        WEB_SECRET_KEY=WEB_SECRET_KEY,
        STAFF_DB_URL=db_url,
        STAFF_USER=STAFF_USER,
        STAFF_PASSWORD=STAFF_PASSWORD,
        STAFF_SESSION_MINUTES="480",
        RASA_URL=CLOSED_URL,
        RASA_AUTH_TOKEN="test-token",
        BACKEND_URL=CLOSED_URL,
        BACKEND_SERVICE_TOKEN="test-service-token",
        LOG_LEVEL="INFO",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )
    env.update(overrides)
    return env


def start_web(directory: Path, db_url: str, **overrides: str) -> WebServer:
    env = web_environment(db_url, **overrides)
    personal_values.watch(directory)
    url = f"http://127.0.0.1:{env['WEB_PORT']}"
    log_path = directory / f"web-{env['WEB_PORT']}.log"
    service = Service("web", [sys.executable, "-m", "bot.web", "serve", "--staff-from-env"],
                      f"{url}/health", log_path)
    group = ServiceGroup([service], env)
    try:
        group.start(timeout=60)
    except RuntimeError as error:
        pytest.fail(f"{error}\n{log_path.read_text(errors='replace')[-3000:] if log_path.exists() else ''}")
    return WebServer(url, env, db_url, log_path, group)


@contextlib.contextmanager
def staff_database(kind: str, directory: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'staff.db'}"
    else:
        with fresh_database("web_test") as url:
            yield url


def login(client: httpx.Client, username: str = STAFF_USER, password: str = STAFF_PASSWORD) -> httpx.Response:
    return client.post("/api/staff/login", json={"username": username, "password": password})
