"""Development vs production mode, secrets, the command line, the demo data."""
from __future__ import annotations

import re
import stat
import subprocess
import sys

import pytest
from sqlalchemy import select

from bot.backend import config as backend_config
from bot.backend import seed as seed_module
from bot.backend.config import ConfigError, load_config, load_or_create_secret, new_service_token
from bot.backend.models import SmsMessage
from bot.core.paths import ROOT
from bot.ops.processes import free_port
from bot.privacy.pii import normalize_id_number
from tests.support.backend import backend_environment, start_backend


def run_cli(env, *args, timeout=60):
    return subprocess.run([sys.executable, "-m", "bot.backend", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    directory = tmp_path_factory.mktemp("backend-production")
    running = start_backend("production", f"sqlite:///{directory / 'backend.db'}", directory, BACKEND_MODE="production")
    yield running
    running.group.stop()
    running.db.dispose()


def test_production_has_no_outbox(production):
    with production.client() as client:
        response = client.get("/dev/outbox")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
        assert "/dev/outbox" not in client.get("/openapi.json").json()["paths"]
        # No demo data in production (an unknown holder's start looks like any other: see its confirm).
        demo = client.post("/v1/verifications", json={"name": "张三", "id_number": "11010519491231002X"})
        wrong = client.post(f"/v1/verifications/{demo.json()['verification_id']}/confirm", json={"code": "123456"})
        assert demo.status_code == 201 and wrong.json()["error"]["code"] == "wrong_code"
        # Verification works: the code is queued for the SMS relay, readable by no API.
        person = production.person("active")
        started = client.post("/v1/verifications", json={"name": person.name, "id_number": person.id_number})
        assert started.status_code == 201
        assert not re.search(r"\b\d{6}\b", started.text.replace(started.json()["verification_id"], ""))
    # Nothing in the database holds the code in clear: the record of the SMS is masked.
    with production.db.read() as session:
        sent = session.execute(select(SmsMessage)).scalars().all()
    assert len(sent) == 1 and sent[0].phone == person.phone[:3] + "****" + person.phone[-4:]
    assert not re.search(r"\d{4}", sent[0].text.replace(sent[0].phone, "")) and "******" in sent[0].text
    env = backend_environment(free_port(), production.db_url, BACKEND_MODE="production",
                              BACKEND_SERVICE_TOKEN=production.token, BACKEND_ID_HASH_KEY=production.id_hash_key)
    result = run_cli(env, "outbox")
    assert result.returncode == 2 and "development mode" in result.stderr
    assert not re.search(r"\b\d{6}\b", result.stdout)
    result = run_cli(env, "seed")
    assert result.returncode == 2 and "development mode" in result.stderr
    result = run_cli(env, "serve", "--seed-if-empty")
    assert result.returncode == 2 and "development mode" in result.stderr


@pytest.mark.parametrize("missing", ["BACKEND_ID_HASH_KEY", "BACKEND_SERVICE_TOKEN"])
def test_production_refuses_to_start_without_secrets(tmp_path, missing):
    env = backend_environment(free_port(), f"sqlite:///{tmp_path / 'b.db'}", BACKEND_MODE="production", **{missing: ""})
    result = run_cli(env, "serve")
    assert result.returncode == 2
    assert missing in result.stderr and "production" in result.stderr
    assert not (tmp_path / "b.db").exists()


def test_unknown_mode_is_refused(tmp_path):
    env = backend_environment(free_port(), f"sqlite:///{tmp_path / 'b.db'}", BACKEND_MODE="staging")
    result = run_cli(env, "migrate")
    assert result.returncode == 2 and "BACKEND_MODE" in result.stderr


def test_secrets_are_generated_once_with_mode_0600(tmp_path, monkeypatch):
    key_file = tmp_path / "secrets" / "backend_id_hash_key"
    first = load_or_create_secret(key_file)
    assert load_or_create_secret(key_file) == first and len(first) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700

    token_file = tmp_path / "secrets" / "backend_service_token"
    token = new_service_token(token_file)
    assert token_file.read_text().strip() == token and stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert new_service_token(token_file) != token  # a new one per start

    monkeypatch.setattr(backend_config, "ID_HASH_KEY_FILE", key_file)
    monkeypatch.setattr(backend_config, "SERVICE_TOKEN_FILE", tmp_path / "secrets" / "token")
    env = {"BACKEND_MODE": "development", "BACKEND_ID_HASH_KEY": "", "BACKEND_SERVICE_TOKEN": ""}
    cfg = load_config(env)
    assert cfg.id_hash_key == first and cfg.service_token == ""
    with pytest.raises(ConfigError):
        load_config({**env, "BACKEND_MODE": "production"})
    with pytest.raises(ConfigError):
        load_config({**env, "BACKEND_MAX_BODY_BYTES": "lots"})


def test_cli_outbox_in_development(backend):
    person = backend.person("active")
    with backend.client() as client:
        backend.start(client, person)
    code = backend.last_code(person.phone)
    env = backend_environment(free_port(), backend.db_url, BACKEND_SERVICE_TOKEN=backend.token,
                              BACKEND_ID_HASH_KEY=backend.id_hash_key)
    result = run_cli(env, "outbox", "--limit", "3")
    assert result.returncode == 0, result.stderr
    assert code in result.stdout and person.phone[:3] + "****" + person.phone[-4:] in result.stdout
    assert person.phone not in result.stdout


def test_seed_is_idempotent_and_force_reloads(tmp_path):
    env = backend_environment(free_port(), f"sqlite:///{tmp_path / 'b.db'}")
    first = run_cli(env, "seed")
    assert first.returncode == 0 and "demo data loaded" in first.stdout
    again = run_cli(env, "seed")
    assert again.returncode == 0 and "nothing seeded" in again.stdout
    forced = run_cli(env, "seed", "--force")
    assert forced.returncode == 0 and "demo data loaded" in forced.stdout
    assert run_cli(env, "migrate").returncode == 0


def test_demo_holders_are_valid_and_documented():
    table = seed_module.__doc__
    assert len(seed_module.DEMO_HOLDERS) >= 6
    for holder in seed_module.DEMO_HOLDERS:
        assert normalize_id_number(holder.id_number) == holder.id_number
        assert f"| {holder.name} | `{holder.id_number}` | {holder.phone} |" in table
        assert re.fullmatch(r"1380000000\d", holder.phone)
    assert len({h.id_number for h in seed_module.DEMO_HOLDERS}) == len(seed_module.DEMO_HOLDERS)
