"""bot/rasa_ext/speedups.py: the same verdicts as Rasa's own validation, faster."""
import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.rasa_ext import bootstrap, speedups

GOOD = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}
BAD = [{"events": "not a list"}, {"responses": "x"}, {"events": [1]}, {"events": [{"no_event_key": 1}]}, {"events": [{"event": 5}]}]
PATCH = next(p for p in bootstrap.SERVER_PATCHES if p.name == "_validate_action_result")


def test_installed_validation_agrees_with_rasas():
    was_applied = PATCH.applied()  # an earlier test may have created our tracker store
    PATCH.undo()
    original = RemoteAction._validate_action_result
    action = RemoteAction("action_x", None)
    assert original(action, GOOD) is True
    PATCH.apply()
    try:
        assert RemoteAction._validate_action_result is speedups.validate_action_result
        assert action._validate_action_result(GOOD) is True
        for reply in BAD:
            with pytest.raises(ValidationError) as ours:
                action._validate_action_result(reply)
            with pytest.raises(ValidationError) as theirs:
                original(action, reply)
            assert ours.value.message == theirs.value.message
            assert "Failed to validate Action server response" in ours.value.message
    finally:
        if not was_applied:
            PATCH.undo()
