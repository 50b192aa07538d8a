"""What the action server is sent of a conversation: its latest turns, not
the whole session.

Rasa sends a custom action the session's every event (and the Rasa server
serialises and the action server parses them) at each call, two or three
calls a turn: in a conversation of 100 unclear messages (each a "did you
mean" or a "sorry") it was 40% of a turn with long messages (the rest of that
growth: bot/session_tracker.py), and the server's memory grew with the
largest request it had built (tests/fuzz/test_repeated_load.py).
Our actions read the latest turn's events (a form's validation, what was said
this turn, the input channel, the language before the latest message) and, for
the hand-over summary, the topics of the recent messages: they get the events
from the ACTION_TURNS-th last user message on, each user message without its
rankings (the intents' and the FAQ topics': only the latest message's are read,
for the "did you mean" buttons; they were two thirds of a message's JSON, and
writing their floats most of the time serialising the events took), and the
active loop's trigger message likewise (rasa_sdk reads the loop's name alone).
Slots and the latest message are sent whole, as Rasa sends them.

The domain goes, as Rasa decides, only to the actions that need it (with
`enable_selective_domain`: the forms' validate_* actions), and of it only
what rasa_sdk 3.6 reads, the forms and the slots (forms.py, slots.py; our
actions read none of it): Rasa sent all of it, 53 KB of JSON made of the
FAQ answers, built and serialised at every validation call.
"""
from __future__ import annotations

import copy
import dataclasses
from functools import wraps
from typing import Any, Callable, Dict, List, Optional, Sequence, Text, Tuple

import rasa
from rasa.shared.core.constants import ACTIVE_LOOP
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import EventVerbosity

ACTION_TURNS = 30  # user messages an action sees (the hand-over summary names the last 10 topics among them)
ACTION_DOMAIN_KEYS = ("forms", "slots")  # what rasa_sdk reads of the domain


def recent_events(events: Sequence[Event], turns: int = ACTION_TURNS) -> List[Event]:
    """`events` from the `turns`-th last user message on (all when there are fewer)."""
    seen = 0
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            seen += 1
            if seen == turns:
                return [events[i] for i in range(index, len(events))]
    return list(events)


# The domain the action server was last sent, built once per Domain (a model reload brings a new one).
_sent_domain: Optional[Tuple[Any, Dict[Text, Any]]] = None


def action_domain(domain: Any) -> Dict[Text, Any]:
    """The part of `domain.as_dict()` the action server reads."""
    global _sent_domain
    if _sent_domain is None or _sent_domain[0] is not domain:
        whole = domain.as_dict()
        _sent_domain = (domain, {key: whole[key] for key in ACTION_DOMAIN_KEYS})
    return _sent_domain[1]


def _without_rankings(parse: Dict[Text, Any]) -> Dict[Text, Any]:
    """A message's parse data without the intents' and the FAQ topics' rankings (shallow copies)."""
    parse = {key: value for key, value in parse.items() if key != "intent_ranking"}
    if parse.get("response_selector"):
        parse["response_selector"] = {
            key: {k: v for k, v in value.items() if k != "ranking"} if isinstance(value, dict) else value
            for key, value in parse["response_selector"].items()}
    return parse


def event_for_action(event: Event) -> Dict[Text, Any]:
    """`event.as_dict()`, a user message's without the rankings of its parse data."""
    data = event.as_dict()
    parse = data.get("parse_data") if isinstance(event, UserUttered) else None
    if parse:
        data["parse_data"] = _without_rankings(parse)
    return data


def loop_for_action(loop: Any) -> Dict[Text, Any]:
    """`dataclasses.asdict(tracker.active_loop)`, as Rasa sends it, its trigger
    message without rankings, and not deep-copied: asdict copied the whole
    ranked message at every call (3% of a form turn), to be serialised at once."""
    if not loop:
        return {}
    data = {field.name: getattr(loop, field.name) for field in dataclasses.fields(loop)}
    if data.get("trigger_message"):
        data["trigger_message"] = _without_rankings(data["trigger_message"])
    return data


def action_call_format(original: Callable) -> Callable:
    """RemoteAction._action_call_format with the recent events and the domain's forms and slots only."""

    @wraps(original)
    def _action_call_format(self: Any, tracker: Any, domain: Any) -> Dict[Text, Any]:
        # The state of a shallow copy with no loop (which current_state would deep-copy): the loop is ours.
        unlooped = copy.copy(tracker)
        unlooped.active_loop = None
        state = unlooped.current_state(EventVerbosity.NONE)
        state[ACTIVE_LOOP] = loop_for_action(tracker.active_loop)
        state["events"] = [event_for_action(event) for event in recent_events(tracker.events)]
        result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": state,
                  "version": rasa.__version__}
        if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
            result["domain"] = action_domain(domain)
        return result

    return _action_call_format
