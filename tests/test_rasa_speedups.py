"""bot/rasa_speedups.py: the same verdicts as Rasa's own validation, faster."""
import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot import rasa_speedups

GOOD = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}
BAD = [{"events": "not a list"}, {"responses": "x"}, {"events": [1]}, {"events": [{"no_event_key": 1}]}, {"events": [{"event": 5}]}]


def test_installed_validation_agrees_with_rasas():
    original = RemoteAction._validate_action_result
    action = RemoteAction("action_x", None)
    assert original(action, GOOD) is True
    rasa_speedups.install()
    try:
        assert RemoteAction._validate_action_result is rasa_speedups._validate_action_result
        assert action._validate_action_result(GOOD) is True
        for reply in BAD:
            with pytest.raises(ValidationError) as ours:
                action._validate_action_result(reply)
            with pytest.raises(ValidationError) as theirs:
                original(action, reply)
            assert ours.value.message == theirs.value.message
            assert "Failed to validate Action server response" in ours.value.message
    finally:
        RemoteAction._validate_action_result = original
        rasa_speedups._installed = False
