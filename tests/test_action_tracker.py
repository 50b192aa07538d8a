"""bot/rasa_ext/action_tracker.py: a custom action is sent the latest turns
of the conversation (and all else Rasa sends), and what our actions read from
them is what they read from the whole session."""
import asyncio
import json

from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActiveLoop, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.callback import ValidateCallbackForm
from actions.conversation import language_before_latest_message
from actions.forms import ValidateVerifyIdentityForm
from actions import suggestions
from actions.handoff import summary, turn_key
from bot.rasa_ext import bootstrap
from bot.rasa_ext.action_tracker import (ACTION_TURNS, action_call_format, action_domain, event_for_action,
                                         recent_events)
from tests.support.conversation_events import DOMAIN, KINDS, conversation

SELECTIVE = EndpointConfig("http://127.0.0.1:1/webhook", enable_selective_domain=True)  # as endpoints.yml has it
PATCH = next(p for p in bootstrap.SERVER_PATCHES if p.name == "_action_call_format")


def _original():
    return bootstrap._originals.get((PATCH.owner, PATCH.name), RemoteAction._action_call_format)


def test_the_events_start_at_the_latest_turns_user_message():
    events = conversation(5, 80, KINDS)
    users = [i for i, e in enumerate(events) if isinstance(e, UserUttered)]
    assert len(users) > ACTION_TURNS
    assert recent_events(events) == events[users[-ACTION_TURNS]:]
    assert recent_events(events, turns=len(users) + 5) == events
    assert recent_events(events[:users[3] + 2]) == events[:users[3] + 2]  # a short conversation: all of it


def test_an_action_gets_what_rasa_sends_but_the_older_events():
    tracker = DialogueStateTracker.from_events("c", conversation(2, 70, KINDS), DOMAIN.slots)
    action = RemoteAction("action_human_handoff", SELECTIVE)
    theirs = _original()(action, tracker, DOMAIN)
    ours = action_call_format(_original())(action, tracker, DOMAIN)
    assert len(theirs["tracker"]["events"]) > len(ours["tracker"]["events"]) > 0
    assert ours["tracker"]["events"] == [event_for_action(e) for e in recent_events(tracker.events)]
    assert {**ours["tracker"], "events": None} == {**theirs["tracker"], "events": None}
    assert {**ours, "tracker": None} == {**theirs, "tracker": None}
    assert PATCH.applied() or RemoteAction._action_call_format is _original()


RANKED = {
    "intent": {"name": "faq", "confidence": 0.9}, "entities": [], "text": "补卡要带什么", "message_id": "m9",
    "intent_ranking": [{"name": "faq", "confidence": 0.9}, {"name": "greet", "confidence": 0.05}],
    "response_selector": {"all_retrieval_intents": ["faq"], "faq": {
        "response": {"intent_response_key": "faq/reissue_documents", "confidence": 0.8, "responses": []},
        "ranking": [{"intent_response_key": "faq/reissue_documents", "confidence": 0.8},
                    {"intent_response_key": "faq/reissue_fee", "confidence": 0.1}]}},
}


def test_user_messages_go_without_their_rankings_and_the_latest_whole():
    events = conversation(4, 6, KINDS) + [UserUttered("补卡要带什么", RANKED["intent"], parse_data=RANKED)]
    tracker = DialogueStateTracker.from_events("c", events, DOMAIN.slots)
    sent = action_call_format(_original())(RemoteAction("action_default_ask_affirmation", SELECTIVE), tracker, DOMAIN)
    theirs = _original()(RemoteAction("action_default_ask_affirmation", SELECTIVE), tracker, DOMAIN)
    last, rasas = sent["tracker"]["events"][-1], theirs["tracker"]["events"][-1]
    assert "intent_ranking" not in last["parse_data"] and "ranking" not in last["parse_data"]["response_selector"]["faq"]
    without = {k: v for k, v in rasas["parse_data"].items() if k != "intent_ranking"}
    without["response_selector"] = {"all_retrieval_intents": ["faq"],
                                    "faq": {"response": RANKED["response_selector"]["faq"]["response"]}}
    assert last == {**rasas, "parse_data": without}  # nothing else of the event changed
    assert sent["tracker"]["latest_message"] == theirs["tracker"]["latest_message"]  # the buttons' rankings
    assert sent["tracker"]["latest_message"]["intent_ranking"] == RANKED["intent_ranking"]
    assert tracker.events[-1].parse_data["intent_ranking"] == RANKED["intent_ranking"]  # the tracker is untouched
    recent, whole = Tracker.from_dict(sent["tracker"]), Tracker.from_dict(theirs["tracker"])
    title = suggestions.title("faq/reissue_documents", "zh")
    assert title and title in summary(whole, "zh") and summary(recent, "zh") == summary(whole, "zh")


def test_what_our_actions_read_is_the_same_from_the_latest_turns():
    for seed in range(6):
        tracker = DialogueStateTracker.from_events("c", conversation(seed, 70, KINDS), DOMAIN.slots)
        action = RemoteAction("action_human_handoff", None)
        whole = Tracker.from_dict(_original()(action, tracker, DOMAIN)["tracker"])
        recent = Tracker.from_dict(action_call_format(_original())(action, tracker, DOMAIN)["tracker"])
        assert language_before_latest_message(recent) == language_before_latest_message(whole)
        assert recent.get_latest_input_channel() == whole.get_latest_input_channel()
        assert recent.slots_to_validate() == whole.slots_to_validate()
        for lang in ("zh", "en"):
            topics = summary(whole, lang)
            assert summary(recent, lang) == topics


def test_each_turn_has_its_own_ticket_key():
    first = Tracker.from_dict({"sender_id": "c", "latest_message": {"message_id": "m1"}, "events": [{"timestamp": 1}]})
    second = Tracker.from_dict({"sender_id": "c", "latest_message": {"message_id": "m2"}, "events": [{"timestamp": 1}]})
    external = Tracker.from_dict({"sender_id": "c", "latest_message": {}, "events": [{"timestamp": 7.5}]})
    assert turn_key(first) == "m1" and turn_key(second) == "m2" and turn_key(external) == "7.5"


def test_a_form_validation_gets_the_domains_forms_and_slots_only():
    tracker = DialogueStateTracker.from_events("c", conversation(3, 20, KINDS), DOMAIN.slots)
    for validation in ("validate_verify_identity_form", "validate_callback_form"):
        action = RemoteAction(validation, SELECTIVE)
        theirs = _original()(action, tracker, DOMAIN)["domain"]
        ours = action_call_format(_original())(action, tracker, DOMAIN)["domain"]
        assert ours == {"forms": theirs["forms"], "slots": theirs["slots"]}
        assert len(str(ours)) * 10 < len(str(theirs))  # the FAQ answers are not sent
    handoff = action_call_format(_original())(RemoteAction("action_human_handoff", SELECTIVE), tracker, DOMAIN)
    assert "domain" not in handoff  # as Rasa: only the actions that need it get it
    assert action_domain(DOMAIN) is action_domain(DOMAIN)  # built once per domain


def test_the_forms_ask_for_the_same_slots_with_the_part_of_the_domain_they_get():
    whole = DOMAIN.as_dict()
    for form in (ValidateVerifyIdentityForm(), ValidateCallbackForm()):
        tracker = Tracker.from_dict({"sender_id": "c", "slots": {}, "latest_message": {}, "events": [],
                                     "active_loop": {"name": form.form_name()}})
        asked = [asyncio.run(form.required_slots(form.domain_slots(domain), CollectingDispatcher(), tracker, domain))
                 for domain in (whole, action_domain(DOMAIN))]
        assert asked[0] == asked[1] and asked[0]


def test_the_active_loop_goes_as_rasa_sends_it_its_trigger_message_without_rankings():
    events = conversation(4, 6, KINDS) + [UserUttered("帮我查卡", RANKED["intent"], parse_data=RANKED),
                                          ActiveLoop("verify_identity_form")]
    tracker = DialogueStateTracker.from_events("c", events, DOMAIN.slots)
    assert tracker.active_loop.trigger_message["intent_ranking"]  # Rasa keeps the ranked message
    action = RemoteAction("validate_verify_identity_form", SELECTIVE)
    sent = action_call_format(_original())(action, tracker, DOMAIN)
    theirs = _original()(action, tracker, DOMAIN)
    loop = theirs["tracker"]["active_loop"]
    trigger = loop["trigger_message"]  # Rasa's deep copy: changed here, and only here
    assert trigger.pop("intent_ranking") and trigger["response_selector"]["faq"].pop("ranking")
    assert sent["tracker"]["active_loop"] == loop
    assert {**sent["tracker"], "events": None, "active_loop": None} == {**theirs["tracker"], "events": None, "active_loop": None}
    assert Tracker.from_dict(sent["tracker"]).active_loop_name == "verify_identity_form"
    assert tracker.active_loop.trigger_message["intent_ranking"] == RANKED["intent_ranking"]  # the tracker is untouched
    assert json.loads(json.dumps(sent)) == sent  # plain JSON, as it is sent
