"""After the user answers a pending activation or loss report, the rules end
the turn: RulePolicy, trained in-process on data/ and domain.yml
(seconds, no model), predicts listening after
action_confirm_task and action_cancel_task, given the slot events those
actions really return. A rule whose last state disagrees with them (the
confirmation flag still set) made the core fallback run after every answer,
take the turn back and say it could not help."""
import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.tasks import ActionCancelTask, ActionConfirmTask
from tests.support.rules import trained_rule_policy

FORM = "verify_identity_form"


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    return trained_rule_policy(tmp_path_factory.mktemp("rules"))


def _user(intent: str):
    return [ActionExecuted(ACTION_LISTEN_NAME), UserUttered("/" + intent, {"name": intent, "confidence": 1.0})]


async def _events_of(action) -> list:
    """What the action returns at this point (no verification: no backend call)."""
    values = {"pending_task": "activate_card", "pending_card_id": "card-1", "awaiting_confirmation": True}
    tracker = Tracker("rules", values, {}, [], False, None, {}, ACTION_LISTEN_NAME)
    events = await action.run(CollectingDispatcher(), tracker, {})
    return [SlotSet(e["name"], e["value"]) for e in events if e["event"] == "slot"]


@pytest.mark.parametrize("intent, action", [
    ("affirm", ActionConfirmTask()), ("deny", ActionCancelTask()), ("stop", ActionCancelTask())])
async def test_the_turn_ends_after_the_answer_to_a_confirmation(rules, intent, action):
    policy, domain = rules
    events = (_user("activate_card")
              + [ActionExecuted("action_remember_task"), SlotSet("pending_task", "activate_card"),
                 ActionExecuted(FORM), ActiveLoop(FORM), SlotSet("requested_slot", "holder_name")]
              + _user("nlu_fallback")
              + [ActionExecuted(FORM), SlotSet("sms_code", "verified"), SlotSet("requested_slot", None), ActiveLoop(None),
                 ActionExecuted("action_run_task"), SlotSet("pending_card_id", "card-1"),
                 SlotSet("awaiting_confirmation", True)]
              + _user(intent))
    tracker = DialogueStateTracker.from_events("rules", events, domain.slots)
    prediction = policy.predict_action_probabilities(tracker, domain)
    assert domain.action_names_or_texts[prediction.max_confidence_index] == action.name()

    tracker.update_with_events([ActionExecuted(action.name()), *await _events_of(action)], domain)
    prediction = policy.predict_action_probabilities(tracker, domain)
    assert domain.action_names_or_texts[prediction.max_confidence_index] == ACTION_LISTEN_NAME
    assert prediction.max_confidence == 1.0  # a rule's, not the core fallback's
