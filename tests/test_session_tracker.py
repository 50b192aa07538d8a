"""bot/session_tracker.py: a turn late in a long conversation gets exactly
what Rasa computes from the whole conversation (applied events, the policies'
states, the tracker copies actions run on), though only the recent turns are
looked at.

At every event of conversations of every kind of turn (tests/support/
conversation_events.py), the tracker a turn works on (as the tracker store
hands it out and Rasa then adds to it) is compared with a plain Rasa tracker
holding the same events.
"""
from __future__ import annotations

import copy
import warnings
from typing import List

import pytest
from rasa.shared.core.events import (
    ActionExecuted, ActiveLoop, EntitiesAdded, Event, SlotSet, UserUttered, UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.core.paths import ROOT
from bot.session_tracker import SessionTracker, Window, clone, copied_message, deserialise_events, window_for
from tests.support.conversation_events import (
    DOMAIN, FALLBACKS, FAQ_ONLY, FORM, KINDS, LISTEN, UNCLEAR_ONLY, conversation,
)


def _untimed(event) -> dict:  # a reset tracker's empty messages are stamped when made
    return {k: v for k, v in event.as_dict().items() if k != "timestamp"} if event else None


def _state(tracker: DialogueStateTracker) -> dict:
    return {
        "slots": {name: slot.value for name, slot in tracker.slots.items()},
        "active_loop": tracker.active_loop, "latest_action": tracker.latest_action,
        "latest_message": _untimed(tracker.latest_message), "latest_bot": _untimed(tracker.latest_bot_utterance),
        "followup": tracker.followup_action, "paused": tracker.is_paused(),
        "events": [e.as_dict() for e in tracker.events],
    }


def _as_stored(events: List[Event]) -> List[Event]:
    """The events as the tracker store reads them back."""
    return deserialise_events([copy.deepcopy(e.as_dict()) for e in events])


def _turn_starts(events: List[Event]) -> List[int]:
    return [i for i, e in enumerate(events) if isinstance(e, UserUttered) and i > 0
            and isinstance(events[i - 1], ActionExecuted) and events[i - 1].action_name == LISTEN]


def check(events: List[Event]) -> int:
    """Replays `events` turn by turn as the tracker store and Rasa would, and
    compares at every event; returns how many events were compared with a window."""
    starts = _turn_starts(events) + [len(events)]
    kept = SessionTracker.from_events("c", _as_stored(events[:starts[0]]), DOMAIN.slots)
    plain = DialogueStateTracker.from_events("c", _as_stored(events[:starts[0]]), DOMAIN.slots)
    windowed = 0
    for begin, end in zip(starts, starts[1:]):
        kept.window = window_for(kept, kept.window)
        turn = clone(kept)
        for event in _as_stored(events[begin:end]):
            turn.update(event)
            plain.update(copy.deepcopy(event))
            windowed += turn.window is not None
            assert turn.applied_events() == plain.applied_events()
            full_states = plain.past_states(DOMAIN)
            window_states = turn.past_states(DOMAIN)
            assert window_states == full_states[len(full_states) - len(window_states):]
            assert len(window_states) >= min(len(full_states), Window.MIN_STATES)
            assert turn.past_states(DOMAIN, ignore_rule_only_turns=True) == plain.past_states(
                DOMAIN, ignore_rule_only_turns=True)
            assert _state(turn.copy()) == _state(plain.copy())
            assert turn.idx_after_latest_restart() == plain.idx_after_latest_restart()
        assert _state(turn) == _state(plain)
        for event in _as_stored(events[begin:end]):  # what the store keeps: the saved events read back
            kept.update(event)
    return windowed


def test_a_long_faq_conversation_is_computed_from_its_window():
    events = conversation(0, 60, FAQ_ONLY)
    assert check(events) > 200


@pytest.mark.parametrize("kinds", [FALLBACKS, UNCLEAR_ONLY], ids=["faq-and-unclear", "unclear-only"])
def test_a_long_conversation_of_fallbacks_is_replayed_from_its_window(monkeypatch, kinds):
    """A message given up on is reverted: Rasa replays the whole session for
    the revert and again for every copy of the tracker after it (a citizen's
    turn cost 25 ms at the start and 60 ms 67 unclear messages later). Late
    in the conversation no turn replays from the start, and all is as Rasa's."""
    replays_from_start = []
    for name in ("replay_events", "travel_back_in_time"):
        def counted(self, *args, _original=getattr(DialogueStateTracker, name), _name=name):
            if isinstance(self, SessionTracker) and len(self.events) > 100:
                replays_from_start.append((_name, len(self.events)))
            return _original(self, *args)
        monkeypatch.setattr(DialogueStateTracker, name, counted)
    events = conversation(0, 36, kinds)
    assert sum(isinstance(e, UserUtteranceReverted) for e in events) > 12
    assert check(events) > 300
    assert replays_from_start == []


@pytest.mark.parametrize("seed", range(8))
def test_every_kind_of_turn_gives_what_rasa_computes(seed):
    check(conversation(seed, 40, KINDS))


def test_a_window_never_starts_inside_a_form():
    events = conversation(3, 50, KINDS)
    tracker = SessionTracker.from_events("c", _as_stored(events), DOMAIN.slots)
    window = window_for(tracker, None)
    assert window is not None and window.state.active_loop_name is None
    assert tracker.events[window.start].action_name == LISTEN and isinstance(tracker.events[window.start + 1], UserUttered)


def test_a_copy_shares_no_state_the_turn_changes():
    tracker = SessionTracker.from_events("c", _as_stored(conversation(1, 10, KINDS)), DOMAIN.slots)
    before = _state(tracker)
    copied = clone(tracker)
    copied.update(SlotSet("language", "en"))
    copied.update(EntitiesAdded([{"entity": "language", "value": "xx"}]))
    copied.update(ActiveLoop(FORM))
    copied.interrupt_loop(True)
    assert _state(tracker) == before


def _containers(value, found=None):
    """id -> container, of every dict and list inside `value`."""
    found = {} if found is None else found
    if isinstance(value, (dict, list)) and id(value) not in found:
        found[id(value)] = value
        for item in value.values() if isinstance(value, dict) else value:
            _containers(item, found)
    return found


def test_a_copied_message_is_what_deepcopy_gives_sharing_nothing():
    intent = {"name": "faq", "confidence": 0.97}
    entities = [{"entity": "language", "value": "zh", "start": 0, "end": 4}]
    parse_data = {"intent": intent, "entities": entities, "text": "补卡要钱吗",
                  "intent_ranking": [intent, {"name": "greet", "confidence": 0.01}],
                  "response_selector": {"faq": {"ranking": [{"confidence": 0.9, "intent_response_key": "faq/x"}],
                                                "response": {"responses": [{"text": "..."}]}}}}
    for message in (UserUttered("补卡要钱吗", intent, entities, parse_data=parse_data, metadata={"a": [1, (2, 3)]}),
                    UserUttered("hi", {"name": "greet"}, [{"entity": "language", "value": "en"}])):
        own, theirs = copied_message(message), copy.deepcopy(message)
        assert own.__dict__ == theirs.__dict__ == message.__dict__
        assert not set(_containers(own.__dict__)) & set(_containers(message.__dict__))  # nothing shared
        # what deepcopy keeps together stays together (Rasa's own message holds its intent twice)
        assert (own.intent is own.parse_data["intent"]) == (theirs.intent is theirs.parse_data["intent"])
        own.entities.append({"entity": "x"})
        assert message.entities == theirs.entities


def test_the_window_holds_more_states_than_the_longest_rule():
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rules = YAMLStoryReader(DOMAIN).read_from_file(ROOT / "data" / "rules.yml")
    longest = max(sum(isinstance(e, ActionExecuted) for e in rule.events) + 1 for rule in rules)
    assert 1 < longest < Window.MIN_STATES


def test_a_copied_slot_is_what_copy_copy_gives():
    from bot.session_tracker import _copied_slot

    tracker = DialogueStateTracker("slots", DOMAIN.slots)
    tracker.update(SlotSet("requested_slot", "id_number_masked"))
    for slot in tracker.slots.values():
        ours, theirs = _copied_slot(slot), copy.copy(slot)
        assert ours is not slot and type(ours) is type(theirs) and ours.__dict__ == theirs.__dict__

    class Named:
        __slots__ = ("value",)

        def __init__(self):
            self.value = 1

    assert _copied_slot(Named()).value == 1  # named __slots__: copied by copy.copy
