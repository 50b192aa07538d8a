"""Verification once per conversation: a valid token is reused, an expired
one is started afresh (in-process, on rasa_sdk's own Tracker)."""
import time

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import verification_token, verified
from actions.tasks import ActionRememberTask
from bot.privacy import sealed

KEY = "dGVzdC1zbG90LXNlYWwta2V5LTMyLWJ5dGVzLWxvbmc="


@pytest.fixture(autouse=True)
def seal_key(monkeypatch):
    monkeypatch.setenv("SLOT_SEAL_KEY", KEY)


def tracker(expires_in: float, token="tok-123", intent="check_card_status") -> Tracker:
    slots = {
        "holder_name": "张*", "id_number_masked": "110105********002X", "sms_code": "verified",
        "verification_id": "v1", "phone_masked": "138****0001",
        "verification_token": sealed.seal(token, "s1") if token else None,
        "verification_expires_at": time.time() + expires_in, "form_failures": None,
        "language": "zh",
    }
    return Tracker("s1", slots, {"intent": {"name": intent, "confidence": 0.99}, "text": "查状态"},
                   [], False, None, None, "action_listen")


async def remember(t: Tracker) -> dict:
    events = await ActionRememberTask().run(CollectingDispatcher(), t, {})
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def test_a_valid_token_is_reused_for_the_next_task():
    t = tracker(expires_in=600)
    assert verified(t) and verification_token(t) == "tok-123"
    slots = await remember(t)
    assert slots == {"pending_task": "check_card_status", "awaiting_confirmation": None, "pending_card_id": None}


async def test_an_expired_verification_is_forgotten_so_the_form_asks_again():
    t = tracker(expires_in=30)  # less than the minute a task needs
    assert not verified(t) and verification_token(t) is None
    slots = await remember(t)
    assert slots["pending_task"] == "check_card_status"
    for name in ("holder_name", "id_number_masked", "sms_code", "verification_token", "verification_expires_at"):
        assert slots[name] is None, name


async def test_a_token_in_clear_or_sealed_with_another_key_is_not_a_verification(monkeypatch):
    t = tracker(expires_in=600)
    monkeypatch.setenv("SLOT_SEAL_KEY", "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktISE=")
    assert not verified(t)
    t.slots["verification_token"] = "tok-123"
    assert not verified(t)
