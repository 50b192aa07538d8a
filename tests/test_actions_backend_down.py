"""The action server with the card backend refusing connections, too slow,
or failing with 5xx: an honest reply, the form ends, no crash, nothing logged."""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import yaml

from bot.core.paths import ROOT
from bot.ops.launcher import action_server
from bot.ops.processes import ServiceGroup, free_port
from bot.privacy import sealed
from tests.support.product import ACTION_HEADERS, product_environment

ID_NUMBER = "440524188001010014"


def _call(port, action, slots, text, requested_slot):
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    tracker = {
        "sender_id": "backend-down",
        "slots": {**{name: None for name in domain["slots"]}, **slots, "requested_slot": requested_slot},
        "latest_message": {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.4},
                           "entities": [], "message_id": "m1"},
        "latest_event_time": 0,
        "followup_action": None,
        "paused": False,
        "events": [],
        "latest_input_channel": "rest",
        "active_loop": {"name": "verify_identity_form"},
        "latest_action": {"action_name": "action_listen"},
        "latest_action_name": "action_listen",
    }
    response = httpx.post(
        f"http://127.0.0.1:{port}/webhook", timeout=30, headers=ACTION_HEADERS,
        json={"next_action": action, "sender_id": "backend-down", "tracker": tracker,
              "domain": domain, "version": "3.6.21"},
    )
    response.raise_for_status()
    return response.json()


class _FailingBackend(BaseHTTPRequestHandler):
    """A real HTTP server that answers every request too late or with a 5xx."""

    mode = "500"
    requests = 0

    def do_POST(self):  # noqa: N802 (http.server's naming)
        type(self).requests += 1
        self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.mode == "slow":
            time.sleep(6)  # longer than the client's 3-second timeout
        status = 502 if self.mode == "502-html" else 503 if self.mode == "slow" else 500
        body = b"<html>Bad Gateway</html>" if self.mode == "502-html" else \
            b'{"error": {"code": "database_unavailable", "message": "down"}}'
        self.send_response(status)
        self.send_header("Content-Type", "text/html" if self.mode == "502-html" else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except BrokenPipeError:  # the client gave up waiting, as it should
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def failing_backend():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FailingBackend)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def actions_without_backend(tmp_path_factory, failing_backend):
    """One action server whose BACKEND_URL is switched per test (see _backend_at)."""
    tmp_path = tmp_path_factory.mktemp("actions")
    env = product_environment(tmp_path)
    env["BACKEND_URL"] = f"http://127.0.0.1:{failing_backend.server_address[1]}"
    env["SANIC_HOST"] = "127.0.0.1"
    group = ServiceGroup([action_server(env, tmp_path)], env)
    group.start(timeout=60)
    yield env, tmp_path
    group.stop()


def _ask_with_id_number(env, language):
    with pytest.MonkeyPatch.context() as patch:  # seal the name as the form did, with the server's key
        patch.setenv("SLOT_SEAL_KEY", env["SLOT_SEAL_KEY"])
        name = sealed.seal("李四", "backend-down")
    return _call(env["ACTION_SERVER_PORT"], "validate_verify_identity_form",
                 {"holder_name": name, "language": language}, ID_NUMBER, "id_number_masked")


def _assert_honest_end(reply, expected):
    texts = " ".join(r.get("text") or "" for r in reply["responses"])
    assert expected in texts, texts
    slots = {e["name"]: e["value"] for e in reply["events"] if e["event"] == "slot"}
    assert slots["sms_code"] == "failed"  # the form ends; no token, nothing done
    assert "verification_token" not in slots


@pytest.mark.parametrize("mode", ["500", "502-html", "slow"])
def test_a_failing_or_slow_backend_gets_an_honest_reply(actions_without_backend, failing_backend, mode):
    env, _ = actions_without_backend
    _FailingBackend.mode, _FailingBackend.requests = mode, 0
    for language, expected in (("zh", "暂时连接不上"), ("en", "cannot be reached")):
        _assert_honest_end(_ask_with_id_number(env, language), expected)
    assert _FailingBackend.requests == 2  # one call per turn: no retry storm on a sick backend


def test_refused_connection_gets_an_honest_reply_and_ends_the_form(tmp_path):
    env = product_environment(tmp_path)
    env["BACKEND_URL"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env["SANIC_HOST"] = "127.0.0.1"
    group = ServiceGroup([action_server(env, tmp_path)], env)
    group.start(timeout=60)
    try:
        for language, expected in (("zh", "暂时连接不上"), ("en", "cannot be reached")):
            _assert_honest_end(_ask_with_id_number(env, language), expected)
    finally:
        group.stop()
    log = (tmp_path / "actions.log").read_text(errors="replace")
    assert ID_NUMBER not in log and "李四" not in log


def test_the_action_server_log_shows_no_personal_data(actions_without_backend):
    env, tmp_path = actions_without_backend
    log = (tmp_path / "actions.log").read_text(errors="replace")
    assert "timeout" in log or "500" in log  # the failures are logged...
    assert ID_NUMBER not in log and "李四" not in log  # ...without what the user typed


def test_a_name_that_was_not_sealed_by_us_is_asked_for_again(actions_without_backend):
    env, _ = actions_without_backend
    reply = _call(env["ACTION_SERVER_PORT"], "validate_verify_identity_form",
                  {"holder_name": "李四", "language": "zh"}, ID_NUMBER, "id_number_masked")
    slots = {e["name"]: e["value"] for e in reply["events"] if e["event"] == "slot"}
    assert slots["holder_name"] is None and slots["requested_slot"] == "holder_name"
