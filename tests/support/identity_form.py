"""verify_identity_form's validator in the test process, on rasa_sdk's own
Tracker (as rasa-sdk's tests do): the tracker it gets at a prompt, and what it
returns (slots, what it said). For tests/test_form_validation.py and
tests/test_name_correction.py."""
from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, BotUttered, UserUttered
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ValidateVerifyIdentityForm

KEY = "dGVzdC1zbG90LXNlYWwta2V5LTMyLWJ5dGVzLWxvbmc="
DOMAIN = {"forms": {"verify_identity_form": {"required_slots": ["holder_name", "id_number_masked", "sms_code"]}}}
SENDER = "form-validation"
SLOTS = ("holder_name", "id_number_masked", "sms_code")


@pytest.fixture(autouse=True)
def seal_key(monkeypatch):
    """The action server's slot-sealing key (a module binds it: `seal_key = identity_form.seal_key`)."""
    monkeypatch.setenv("SLOT_SEAL_KEY", KEY)


def tracker(requested: str, message: str, intent: str = "nlu_fallback", confidence: float = 0.4,
            language: str = "zh", **slots) -> Tracker:
    """The tracker the validator gets: the form asked for `requested`, the user typed `message`."""
    values = {"requested_slot": requested, "language": language, "form_failures": None,
              "verification_token": None, "verification_expires_at": None, **slots}
    latest = {"text": message, "intent": {"name": intent, "confidence": confidence}}
    events = [ActionExecuted("verify_identity_form"), BotUttered("(the prompt)"), ActionExecuted("action_listen"),
              UserUttered(message, latest)]
    return Tracker(SENDER, values, latest, events, False, None,
                   {"name": "verify_identity_form"}, "action_listen")


async def validate(t: Tracker):
    dispatcher = CollectingDispatcher()
    events = await ValidateVerifyIdentityForm().run(dispatcher, t, DOMAIN)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    return slots, " ".join(m.get("text") or "" for m in dispatcher.messages)
