"""The card backend as a subprocess (`python -m bot.backend serve` on a free
port), its database opened alongside for what the API does not show, and
holders of the tests' own (checksum-valid ID numbers nobody else uses)."""
from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import random
import re
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import httpx
import pytest
from sqlalchemy import select, text

from bot.backend.models import AuditEntry, SmsMessage
from bot.backend.seed import add_card, add_holder
from bot.db import Database
from bot.ops.processes import Service, ServiceGroup, free_port
from bot.privacy.pii import check_character
from tests.support import personal_values

_ids = itertools.count(1)


def new_id_number() -> str:
    """A checksum-valid ID number nobody else in this test session has."""
    n = next(_ids)
    born = dt.date(1950, 1, 1) + dt.timedelta(days=random.randrange(0, 365 * 50))
    first17 = f"{random.choice(['110101', '310104', '440305', '510107', '330106'])}{born:%Y%m%d}{n % 1000:03d}"
    return first17 + check_character(first17)


def new_phone() -> str:
    return f"139{next(_ids) % 10 ** 8:08d}"


@dataclass
class Person:
    name: str
    id_number: str
    phone: str
    cards: Dict[str, str] = field(default_factory=dict)  # status -> card_id


@dataclass
class Backend:
    kind: str
    url: str
    token: str
    id_hash_key: str
    db_url: str
    log_path: Path
    db: Database
    secrets_seen: List[str] = field(default_factory=list)  # clear values that must never reach the log
    group: Optional[ServiceGroup] = None

    @property
    def auth(self) -> Dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.auth, timeout=30, **kwargs)

    def person(self, *statuses: str, name: str = "测试人") -> Person:
        """A fresh holder with one card in each given status."""
        person = Person(name=name, id_number=new_id_number(), phone=new_phone())
        self.secrets_seen += [person.id_number, person.phone]
        for value, kind in ((person.name, "name"), (person.id_number, "ID number"), (person.phone, "phone number")):
            personal_values.typed(value, kind)
        with self.db.write() as session:
            holder = add_holder(session, self.id_hash_key, person.name, person.id_number, person.phone)
            for status in statuses:
                card = add_card(
                    session, holder, f"T{secrets.randbelow(10 ** 12):012d}", status,
                    social_security_active=status in ("active", "reported_lost"),
                    issued_on=dt.date(2026, 1, 1), expires_on=dt.date(2036, 1, 1),
                )
                person.cards[status] = card.public_id
            session.commit()
        return person

    def last_code(self, phone: str) -> str:
        with self.db.read() as session:
            message = session.execute(
                select(SmsMessage).where(SmsMessage.phone == phone).order_by(SmsMessage.id.desc()).limit(1)
            ).scalar_one()
        code = re.search(r"\b(\d{6})\b", message.text).group(1)
        self.secrets_seen.append(code)
        personal_values.typed(code, "verification code")
        return code

    def start(self, client: httpx.Client, person: Person, channel: str = "web") -> str:
        response = client.post("/v1/verifications", json={"name": person.name, "id_number": person.id_number, "channel": channel})
        assert response.status_code == 201, response.text
        return response.json()["verification_id"]

    def verify(self, person: Person) -> str:
        """A verification token for `person` through the API."""
        with self.client() as client:
            verification_id = self.start(client, person)
            response = client.post(f"/v1/verifications/{verification_id}/confirm", json={"code": self.last_code(person.phone)})
            assert response.status_code == 200, response.text
            return response.json()["verification_token"]

    def audit(self, action: Optional[str] = None) -> List[AuditEntry]:
        with self.db.read() as session:
            query = select(AuditEntry).order_by(AuditEntry.id)
            if action:
                query = query.where(AuditEntry.action == action)
            return list(session.execute(query).scalars())

    def execute(self, sql: str, **params) -> None:
        with self.db.write() as session:
            session.execute(text(sql), params)
            session.commit()


def backend_environment(port: int, db_url: str, **overrides: str) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(
        HELPDESK_HOST="127.0.0.1",
        BACKEND_PORT=str(port),
        BACKEND_DB_URL=db_url,
        BACKEND_SERVICE_TOKEN=secrets.token_urlsafe(24),
        BACKEND_ID_HASH_KEY=secrets.token_urlsafe(24),
        BACKEND_MODE="development",
        BACKEND_MAX_BODY_BYTES="16384",
        LOG_LEVEL="DEBUG",  # the strictest case for "no personal data in the log"
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )
    env.update(overrides)
    return env


def start_backend(kind: str, db_url: str, directory: Path, **overrides: str) -> Backend:
    port = free_port()
    env = backend_environment(port, db_url, **overrides)
    personal_values.watch(directory)
    log_path = directory / f"backend-{kind}.log"
    service = Service(
        name=f"backend-{kind}",
        command=[sys.executable, "-m", "bot.backend", "serve"]
        + (["--seed-if-empty"] if env["BACKEND_MODE"] == "development" else []),
        health_url=f"http://127.0.0.1:{port}/health",
        log_path=log_path,
    )
    group = ServiceGroup([service], env)
    try:
        group.start(timeout=90)
    except RuntimeError as error:
        pytest.fail(f"{error}\n{log_path.read_text(errors='replace')[-3000:] if log_path.exists() else ''}")
    return Backend(
        kind=kind, url=f"http://127.0.0.1:{port}", token=env["BACKEND_SERVICE_TOKEN"],
        id_hash_key=env["BACKEND_ID_HASH_KEY"], db_url=db_url, log_path=log_path, db=Database(db_url), group=group,
    )


@contextlib.contextmanager
def sqlite_backend(tmp_path_factory, name: str, **overrides: str) -> Iterator[Backend]:
    """A backend of the test module's own, on SQLite in a fresh directory; stopped afterwards."""
    directory = tmp_path_factory.mktemp(name)
    running = start_backend(name, f"sqlite:///{directory / 'backend.db'}", directory, **overrides)
    try:
        yield running
    finally:
        running.group.stop()
        running.db.dispose()


def error_of(response: httpx.Response, status: int, code: str) -> dict:
    """The backend's JSON error body: exactly {"error": {"code", "message"}} with this status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]
