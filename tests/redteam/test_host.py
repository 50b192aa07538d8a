"""A local user on the host attacks the running product (docs/SECURITY.md, "The host"):
reads `ps` and the files under var/, calls the loopback ports without the shared secrets,
replays a sealed slot value in another conversation, sends bodies that hang or flood sanic."""
from __future__ import annotations

import json
import socket
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List

import httpx
import pytest
import yaml

from bot.core.paths import ROOT
from bot.core.service_auth import ACTION_SECRET_HEADER, REST_SECRET_HEADER
from bot.rasa_ext.rasa_server import MAX_BODY_BYTES
from tests.support.product import ACTION_HEADERS

pytestmark = pytest.mark.product

SECRET_SETTINGS = ("RASA_AUTH_TOKEN", "BACKEND_SERVICE_TOKEN", "REST_CHANNEL_SECRET", "ACTION_SERVER_SECRET",
                   "SLOT_SEAL_KEY", "WEB_SECRET_KEY", "BACKEND_ID_HASH_KEY", "WECHAT_TOKEN", "WECHAT_APP_SECRET",
                   "WECHAT_ENCODING_AES_KEY", "STAFF_PASSWORD")
LI_SI = ("李四", "440524188001010014")


def children_of(pid: int) -> List[int]:
    """`pid`'s descendants, from /proc (what `ps` reads)."""
    parents: Dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [child for child, ppid in parents.items() if ppid == parent]
        found += kids
        frontier += kids
    return found


def test_no_command_line_holds_a_secret(product):
    """`ps` shows every process's command line to every local user."""
    pids = [product.process.pid, *children_of(product.process.pid)]
    assert len(pids) >= 5  # the launcher, backend, action server, Rasa, web
    command_lines = {}
    for pid in pids:
        try:
            command_lines[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
    assert any("bot.rasa_ext.rasa_server" in line for line in command_lines.values()), command_lines
    for name in SECRET_SETTINGS:
        for pid, line in command_lines.items():
            assert product.env[name] not in line, f"{name} on the command line of {pid}: {line}"


def test_what_the_product_writes_is_for_its_own_user_only(product):
    product.say("host-modes", "补办的社保卡需要重新激活吗?")  # logs and the tracker store are written
    env = product.env
    written = [*Path(env["LOG_DIR"]).rglob("*"), *Path(env["RUN_DIR"]).rglob("*"), Path(env["TRACKER_DB"]),
               Path(env["BACKEND_DB_URL"].removeprefix("sqlite:///")), Path(env["STAFF_DB_URL"].removeprefix("sqlite:///"))]
    assert len(written) > 8
    for path in [Path(env["LOG_DIR"]), Path(env["RUN_DIR"]), *written]:
        assert path.stat().st_mode & 0o077 == 0, f"{path} is {oct(path.stat().st_mode & 0o777)}"


# the shared secrets

def test_the_rest_channel_serves_only_its_own_callers(product):
    url = f"{product.rasa_url}/webhooks/rest/webhook"
    message = {"sender": "host-intruder", "message": "补办的社保卡需要重新激活吗?"}
    for headers in ({}, {REST_SECRET_HEADER: "guess"}, {REST_SECRET_HEADER: ""},
                    {REST_SECRET_HEADER: product.env["REST_CHANNEL_SECRET"] + "x"}):
        response = httpx.post(url, json=message, headers=headers, timeout=30)
        assert response.status_code == 401, (headers, response.text)
        assert response.json()["error"]["code"] == "unauthorized"
    answered = httpx.post(url, json=message, headers=product.rest_headers, timeout=30)
    assert answered.status_code == 200 and "激活" in answered.json()[0]["text"]


def crafted_call(sender: str, slots: dict, action: str = "action_run_task") -> dict:
    """An action call as Rasa sends it, for a conversation of the caller's choosing."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    tracker = {
        "sender_id": sender,
        "slots": {**{name: None for name in domain["slots"]}, **slots},
        "latest_message": {"text": "查状态", "intent": {"name": "check_card_status", "confidence": 0.99},
                           "entities": [], "message_id": "m1"},
        "latest_event_time": 0, "followup_action": None, "paused": False, "events": [],
        "latest_input_channel": "rest", "active_loop": {},
        "latest_action": {"action_name": "verify_identity_form"}, "latest_action_name": "verify_identity_form",
    }
    return {"next_action": action, "sender_id": sender, "tracker": tracker, "domain": domain, "version": "3.6.21"}


def test_the_action_server_serves_only_rasa(product):
    url = f"http://127.0.0.1:{product.env['ACTION_SERVER_PORT']}"
    call = crafted_call("host-intruder", {"pending_task": "check_card_status"})
    for headers in ({}, {ACTION_SECRET_HEADER: "guess"}, {ACTION_SECRET_HEADER: ""}):
        assert httpx.post(f"{url}/webhook", json=call, headers=headers, timeout=30).status_code == 401
        assert httpx.get(f"{url}/actions", headers=headers, timeout=30).status_code == 401
    assert httpx.get(f"{url}/health", timeout=30).status_code == 200  # the launcher's health check
    assert httpx.post(f"{url}/webhook", json=call, headers=ACTION_HEADERS, timeout=30).status_code == 200


def verify_over_rest(product, sender: str) -> Dict[str, object]:
    """A real verification as 李四; the slots it left in the tracker store (sealed token included)."""
    product.say(sender, "帮我查一下我的社保卡现在是什么状态")
    product.say(sender, LI_SI[0])
    product.say(sender, LI_SI[1])
    answer = " ".join(m.get("text") or "" for m in product.say(sender, product.latest_sms_code()))
    assert "****0102" in answer, answer
    with sqlite3.connect(product.env["TRACKER_DB"]) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'slot' ORDER BY id",
                          (sender,)).fetchall()
    slots = {}
    for (data,) in rows:
        event = json.loads(data)
        slots[event["name"]] = event["value"]
    return slots


def test_a_sealed_token_lifted_from_the_tracker_store_is_worthless_in_another_conversation(product):
    stolen = verify_over_rest(product, "host-victim")
    assert str(stolen["verification_token"]).startswith("sealed:")
    slots = {name: stolen[name] for name in ("verification_token", "verification_expires_at", "sms_code")}
    slots["pending_task"] = "check_card_status"
    url = f"http://127.0.0.1:{product.env['ACTION_SERVER_PORT']}/webhook"

    def cards_shown(sender: str) -> str:
        reply = httpx.post(url, json=crafted_call(sender, slots), headers=ACTION_HEADERS, timeout=30)
        assert reply.status_code == 200, reply.text
        return " ".join(r.get("text") or "" for r in reply.json()["responses"])

    assert "****0102" in cards_shown("host-victim")  # in its own conversation the token works
    assert "****0102" not in cards_shown("host-attacker")


# the Rasa process's HTTP guards

def raw_request(port: int, request: bytes, timeout: float = 20.0) -> bytes:
    """Sends `request` as is; the server's first bytes (a server that hangs fails the test with a timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request)
        try:
            return connection.recv(4096)
        except socket.timeout:
            pytest.fail(f"no answer within {timeout:.0f} s to {request[:80]!r}")


@pytest.mark.parametrize("length", [b"-5", b"-1", b"1e3", b"5, 5"])
def test_the_rasa_server_refuses_a_malformed_content_length(product, length):
    port = int(product.env["RASA_PORT"])
    answer = raw_request(port, b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               b"Content-Length: " + length + b"\r\nConnection: close\r\n\r\n{}")
    assert answer.startswith(b"HTTP/1.1 4"), answer[:200]
    assert product.say("host-after-length", "你好")  # and goes on serving


@pytest.mark.parametrize("path", ["/webhooks/rest/webhook", "/webhooks/wechat/webhook", "/model/parse"])
def test_the_rasa_server_refuses_an_oversized_body_before_reading_it(product, path):
    port = int(product.env["RASA_PORT"])
    size = MAX_BODY_BYTES + 1
    assert size < 1024 * 1024
    answer = raw_request(port, f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               f"Content-Length: {size}\r\nConnection: close\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"code":"payload_too_large"' in answer.replace(b" ", b""), answer[-300:]  # our JSON error, not sanic's page


# Rasa's API token travels in a header, never in a URL (nginx logs request lines)

class _Recorder(BaseHTTPRequestHandler):
    seen: List[tuple] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        _Recorder.seen.append((self.path, dict(self.headers)))
        body = b"{}" if "webhooks" not in self.path else b"[]"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


async def test_the_web_process_sends_tokens_in_headers_only(monkeypatch):
    from bot.web.rasa_client import RasaClient

    monkeypatch.setenv("REST_CHANNEL_SECRET", "rest-secret-of-this-test")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = RasaClient(f"http://127.0.0.1:{server.server_address[1]}", "api-token-of-this-test", 10)
    try:
        await client.parse("补卡")
        await client.history("someone")
        await client.send("someone", "你好")
    finally:
        await client.close()
        server.shutdown()
    assert len(_Recorder.seen) == 3
    for path, headers in _Recorder.seen:
        assert "api-token-of-this-test" not in path and "token" not in path
        assert headers.get(REST_SECRET_HEADER) == "rest-secret-of-this-test"
    authorized = [headers.get("Authorization") for _, headers in _Recorder.seen[:2]]
    assert authorized == ["Bearer api-token-of-this-test"] * 2


def test_rasas_api_accepts_the_token_as_a_bearer_header(product):
    url = f"{product.rasa_url}/model/parse"
    assert httpx.post(url, json={"text": "补卡"}, timeout=30).status_code == 401
    assert httpx.post(url, json={"text": "补卡"}, timeout=30, headers={"Authorization": "Bearer wrong"}).status_code == 401
    answer = httpx.post(url, json={"text": "补卡"}, timeout=30,
                        headers={"Authorization": f"Bearer {product.env['RASA_AUTH_TOKEN']}"})
    assert answer.status_code == 200 and answer.json()["intent"]["name"]
