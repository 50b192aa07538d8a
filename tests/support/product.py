"""The whole product, started as `make run` starts it (`python -m bot run`), with
settings of its own: free ports, its own stores, known secrets."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Dict, List

import httpx
import pytest
from sqlalchemy import create_engine, text

from bot.core.paths import ROOT
from bot.core.service_auth import ACTION_SECRET_HEADER, REST_SECRET_HEADER
from bot.ops.processes import free_port
from tests.support.launch import interrupt, launch_product
from tests.support.markers import require
from tests.support import personal_values

MODEL = ROOT / "models" / "helpdesk.tar.gz"
# A message the trained model cannot place: it gets "did you mean" with "怎么补办、去哪补办" among
# the buttons (one place for it: a retrained model may need another).
UNCLEAR = "补卡"
# What the REST channel's own callers present, for products started with product_environment.
REST_HEADERS = {REST_SECRET_HEADER: "test-rest-channel-secret"}
# What the Rasa server presents to the action server (endpoints.yml).
ACTION_HEADERS = {ACTION_SECRET_HEADER: "test-action-server-secret"}
STAFF_USER = "counter1"  # the staff account every product and web process of the tests creates
STAFF_PASSWORD = "counter-password-1"


def product_environment(tmp_path: Path, **overrides) -> dict:
    """Settings for a product instance of its own: free ports, its own stores."""
    env = dict(os.environ)
    env.update(
        HELPDESK_HOST="127.0.0.1",
        RASA_PORT=str(free_port()),
        ACTION_SERVER_PORT=str(free_port()),
        ACTION_SERVER_URL="",
        BACKEND_PORT=str(free_port()),
        BACKEND_URL="",
        BACKEND_DB_URL=f"sqlite:///{tmp_path / 'backend.db'}",
        BACKEND_SERVICE_TOKEN="test-service-token",
        BACKEND_ID_HASH_KEY="test-id-hash-key-for-this-run",
        BACKEND_MODE="development",
        TRACKER_DB=str(tmp_path / "tracker.db"),
        LOG_DIR=str(tmp_path / "log"),
        RUN_DIR=str(tmp_path / "run"),
        TRACKER_DB_URL="",
        RASA_REPLICAS="1",
        ACTION_SERVER_REPLICAS="1",
        RASA_AUTH_TOKEN="test-token",
        REST_CHANNEL_SECRET=REST_HEADERS[REST_SECRET_HEADER],
        ACTION_SERVER_SECRET=ACTION_HEADERS[ACTION_SECRET_HEADER],
        RASA_TELEMETRY_ENABLED="false",
        RASA_URL="",
        SLOT_SEAL_KEY="dGVzdC1zbG90LXNlYWwta2V5LTMyLWJ5dGVzLWxvbmc=",
        WEB_PORT=str(free_port()),
        WEB_SECRET_KEY="test-web-secret-key-for-this-run",
        CHAT_LIMIT_FACTOR="1000",  # every test talks from 127.0.0.1; tests/redteam/test_web_abuse.py tests the limits
        STAFF_DB_URL=f"sqlite:///{tmp_path / 'staff.db'}",
        STAFF_USER=STAFF_USER,
        STAFF_PASSWORD=STAFF_PASSWORD,
        REDIS_URL="",
        WECHAT_TOKEN="test-wechat-token",
        WECHAT_APP_ID="wx0123456789abcdef",
        WECHAT_APP_SECRET="test-wechat-app-secret",
        WECHAT_ENCODING_AES_KEY="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        WECHAT_API_BASE="http://127.0.0.1:9",  # refused; tests of the slow path start a local fake
        # Staff on duty at any hour: a request for a person must not depend on when the tests run
        # (tests of the hours and the call-back set their own).
        HANDOFF_HOURS="always",
    )
    env.update(overrides)
    return env


def texts(replies: List[dict]) -> str:
    """The texts of the REST channel's replies, joined."""
    return " ".join(r.get("text", "") for r in replies)


def stored_user_texts(tracker_url: str, sender: str) -> List[str]:
    """What a tracker store keeps of `sender`'s messages, in order."""
    engine = create_engine(tracker_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id"), {"s": sender})
            return [json.loads(data)["text"] for (data,) in rows]
    finally:
        engine.dispose()


class RunningProduct:
    def __init__(self, env: dict, process: subprocess.Popen, output: Path) -> None:
        self.env, self.process, self.output = env, process, output
        self.rasa_url = f"http://127.0.0.1:{env['RASA_PORT']}"
        self.web_url = f"http://127.0.0.1:{env['WEB_PORT']}"

    @property
    def rest_headers(self) -> dict:
        """What the REST channel's own callers present (bot/core/service_auth.py)."""
        return {REST_SECRET_HEADER: self.env["REST_CHANNEL_SECRET"]}

    @property
    def backend_url(self) -> str:
        return f"http://127.0.0.1:{self.env['BACKEND_PORT']}"

    @property
    def tracker_url(self) -> str:
        return self.env["TRACKER_DB_URL"] or f"sqlite:///{self.env['TRACKER_DB']}"

    def processes(self) -> Dict[str, int]:
        """name -> pid of every process the launcher runs now (RUN_DIR/processes.json)."""
        state = json.loads((Path(self.env["RUN_DIR"]) / "processes.json").read_text())
        return {entry["name"]: entry["pid"] for entry in state}

    def latest_sms_code(self) -> str:
        """The code the development SMS gateway last "sent" (GET /dev/outbox)."""
        response = httpx.get(
            f"{self.backend_url}/dev/outbox", params={"limit": 1}, timeout=10,
            headers={"Authorization": f"Bearer {self.env['BACKEND_SERVICE_TOKEN']}"},
        )
        response.raise_for_status()
        code = re.search(r"\d{6}", response.json()["messages"][0]["text"]).group(0)
        return personal_values.typed(code, "verification code")

    def say(self, sender: str, message: str) -> list:
        personal_values.typed_in(message, sender)
        response = httpx.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            headers=self.rest_headers,
            timeout=30,
        )
        response.raise_for_status()
        replies = response.json()
        personal_values.replied(sender, replies)
        return replies

    def stored_user_texts(self, sender: str) -> List[str]:
        return stored_user_texts(self.tracker_url, sender)

    def stop(self) -> int:
        """Ctrl-C, as a person would press it; the launcher must stop within a minute."""
        assert interrupt(self.process), "the launcher did not stop within 60 s of Ctrl-C"
        return self.process.returncode


def start_product(tmp_path: Path, timeout: float = 300.0, **overrides) -> RunningProduct:
    """`python -m bot run` with settings of its own (product_environment + overrides)."""
    require("product", "starts the product")
    if not MODEL.exists():
        pytest.fail("no trained model: `make test` trains it first")
    env = product_environment(tmp_path, **overrides)
    personal_values.watch(tmp_path)
    output = tmp_path / "launcher.out"
    try:
        process = launch_product(env, output, timeout)
    except RuntimeError as error:
        pytest.fail(str(error))
    return RunningProduct(env, process, output)
