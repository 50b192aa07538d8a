"""The action server with the card backend out of reach: an honest reply, no crash."""
import httpx
import yaml

from bot.launcher import action_server
from bot.paths import ROOT
from bot.processes import ServiceGroup
from tests.conftest import free_port, product_environment


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
        f"http://127.0.0.1:{port}/webhook", timeout=30,
        json={"next_action": action, "sender_id": "backend-down", "tracker": tracker,
              "domain": domain, "version": "3.6.21"},
    )
    response.raise_for_status()
    return response.json()


def test_refused_connection_gets_an_honest_reply_and_ends_the_form(tmp_path):
    env = product_environment(tmp_path)
    env["BACKEND_URL"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env["SANIC_HOST"] = "127.0.0.1"
    group = ServiceGroup([action_server(env, tmp_path)], env)
    group.start(timeout=60)
    try:
        for language, expected in (("zh", "暂时连接不上"), ("en", "cannot be reached")):
            reply = _call(env["ACTION_SERVER_PORT"], "validate_verify_identity_form",
                          {"holder_name": "李四", "language": language}, "440524188001010014",
                          "id_number_masked")
            texts = " ".join(r.get("text") or "" for r in reply["responses"])
            assert expected in texts, texts
            slots = {e["name"]: e["value"] for e in reply["events"] if e["event"] == "slot"}
            assert slots["sms_code"] == "failed"  # the form ends; no token, nothing done
            assert "verification_token" not in slots
    finally:
        group.stop()
    log = (tmp_path / "actions.log").read_text(errors="replace")
    assert "440524188001010014" not in log
