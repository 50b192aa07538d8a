"""bot/rasa_ext/action_tracker.py: a custom action is sent the latest turns
of the conversation (and all else Rasa sends), and what our actions read from
them is what they read from the whole session."""
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker

from actions.conversation import language_before_latest_message
from actions.handoff import summary, turn_key
from bot.rasa_ext import bootstrap
from bot.rasa_ext.action_tracker import ACTION_TURNS, action_call_format, recent_events
from tests.support.conversation_events import DOMAIN, KINDS, conversation

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
    action = RemoteAction("action_human_handoff", None)
    theirs = _original()(action, tracker, DOMAIN)
    ours = action_call_format(_original())(action, tracker, DOMAIN)
    assert len(theirs["tracker"]["events"]) > len(ours["tracker"]["events"]) > 0
    assert ours["tracker"]["events"] == [e.as_dict() for e in recent_events(tracker.events)]
    assert {**ours["tracker"], "events": None} == {**theirs["tracker"], "events": None}
    assert {**ours, "tracker": None} == {**theirs, "tracker": None}
    assert PATCH.applied() or RemoteAction._action_call_format is _original()


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
