"""The hand-over's rules (data/rules.yml), on RulePolicy trained in-process on
data/ and domain.yml (seconds, no model): each EXTERNAL_handoff_* trigger is
spoken by action_handoff_update and the turn ends; asking for a person during
any form leaves the form first; the call-back form answers an FAQ question and
goes on, and its end records what the citizen chose, then the turn ends
(a rule's own prediction, never the core fallback)."""
import pytest
import yaml
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted, ActionExecutionRejected, ActiveLoop, SlotSet, UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.core.paths import ROOT
from tests.support.rules import trained_rule_policy

CALLBACK_FORM = "callback_form"
IDENTITY_FORM = "verify_identity_form"
EXTERNAL = ("EXTERNAL_handoff_claimed", "EXTERNAL_handoff_released", "EXTERNAL_handoff_closed",
            "EXTERNAL_handoff_timeout")


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    return trained_rule_policy(tmp_path_factory.mktemp("rules"))


def _user(intent: str, **kwargs):
    return [ActionExecuted(ACTION_LISTEN_NAME), UserUttered("/" + intent, {"name": intent, "confidence": 1.0}, **kwargs)]


def _next(rules, events) -> tuple:
    policy, domain = rules
    tracker = DialogueStateTracker.from_events("rules", events, domain.slots)
    prediction = policy.predict_action_probabilities(tracker, domain)
    return domain.action_names_or_texts[prediction.max_confidence_index], prediction.max_confidence


def _asks(form: str, slot: str) -> list:
    """The form, active, asking for `slot`."""
    return [ActionExecuted(form), ActiveLoop(form), SlotSet("requested_slot", slot)]


def test_every_external_intent_of_the_domain_is_ruled():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert tuple(i for i in domain["intents"] if i.startswith("EXTERNAL_")) == EXTERNAL
    ruled = set()
    for rule in yaml.safe_load((ROOT / "data" / "rules.yml").read_text(encoding="utf-8"))["rules"]:
        for step in rule["steps"]:
            ruled |= {s["intent"] for s in step.get("or", [step]) if "intent" in s}
    assert set(EXTERNAL) <= ruled


@pytest.mark.parametrize("intent", EXTERNAL)
def test_a_status_change_is_spoken_and_the_turn_ends(rules, intent):
    events = _user("greet") + [ActionExecuted("utter_greet")] + _user(intent, metadata={"is_external": True})
    assert _next(rules, events) == ("action_handoff_update", 1.0)
    assert _next(rules, events + [ActionExecuted("action_handoff_update")]) == (ACTION_LISTEN_NAME, 1.0)


def test_a_status_change_while_the_call_back_form_waits_for_an_answer(rules):
    """Staff close a timed-out ticket while the citizen is at the number prompt:
    the form rejects the trigger (no answer in it), the rule speaks."""
    events = (_user("human_handoff") + [ActionExecuted("action_human_handoff")] + _asks(CALLBACK_FORM, "callback_phone")
              + _user("EXTERNAL_handoff_closed", metadata={"is_external": True}))
    assert _next(rules, events)[0] == CALLBACK_FORM
    events += [ActionExecutionRejected(CALLBACK_FORM)]
    assert _next(rules, events) == ("action_handoff_update", 1.0)


@pytest.mark.parametrize("form, slot", [(IDENTITY_FORM, "sms_code"), (CALLBACK_FORM, "callback_phone"),
                                        (CALLBACK_FORM, "callback_consent")])
def test_asking_for_a_person_during_any_form_leaves_the_form_first(rules, form, slot):
    events = _user("check_card_status") + [ActionExecuted("action_remember_task")] + _asks(form, slot) + \
        _user("human_handoff")
    assert _next(rules, events)[0] == form  # the form sees the message first...
    events += [ActionExecutionRejected(form)]  # ...takes nothing from it (actions/forms.py, actions/callback.py)
    assert _next(rules, events) == ("action_deactivate_loop", 1.0)
    events += [ActionExecuted("action_deactivate_loop"), ActiveLoop(None), SlotSet("requested_slot", None)]
    assert _next(rules, events) == ("action_human_handoff", 1.0)
    events += [ActionExecuted("action_human_handoff")]
    assert _next(rules, events) == (ACTION_LISTEN_NAME, 1.0)


def _at_the_consent_prompt() -> list:
    """Outside staff hours: action_human_handoff cleared the call-back slots
    and started the form (FollowupAction), which asks for consent."""
    return (_user("human_handoff") + [ActionExecuted("action_human_handoff"), SlotSet("callback_consent", None),
                                      SlotSet("callback_phone", None)]
            + _asks(CALLBACK_FORM, "callback_consent"))


def test_the_call_back_form_listens_after_each_question(rules):
    events = _at_the_consent_prompt()
    assert _next(rules, events) == (ACTION_LISTEN_NAME, 1.0)
    events += _user("affirm")
    assert _next(rules, events)[0] == CALLBACK_FORM  # yes is the form's answer, not "a lone yes"
    events += [ActionExecuted(CALLBACK_FORM), SlotSet("callback_consent", True), SlotSet("requested_slot", "callback_phone")]
    assert _next(rules, events) == (ACTION_LISTEN_NAME, 1.0)


@pytest.mark.parametrize("answers", [
    [SlotSet("callback_consent", True), SlotSet("callback_phone", "sealed:...")],  # a number
    [SlotSet("callback_consent", False), SlotSet("callback_phone", None)],  # no, 算了, three wrong numbers
])
def test_the_end_of_the_call_back_form_records_the_choice_then_the_turn_ends(rules, answers):
    events = _at_the_consent_prompt() + _user("nlu_fallback")
    events += [ActionExecuted(CALLBACK_FORM), *answers, SlotSet("requested_slot", None), ActiveLoop(None)]
    assert _next(rules, events) == ("action_submit_callback", 1.0)
    events += [ActionExecuted("action_submit_callback"), SlotSet("callback_consent", None), SlotSet("callback_phone", None)]
    assert _next(rules, events) == (ACTION_LISTEN_NAME, 1.0)


def test_an_faq_question_during_the_call_back_form_is_answered_then_the_form_goes_on(rules):
    events = _at_the_consent_prompt() + _user("faq") + [ActionExecutionRejected(CALLBACK_FORM)]
    assert _next(rules, events) == ("utter_faq", 1.0)
    events += [ActionExecuted("utter_faq")]
    assert _next(rules, events) == (CALLBACK_FORM, 1.0)
