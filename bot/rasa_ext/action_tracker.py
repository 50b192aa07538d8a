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
from the ACTION_TURNS-th last user message on. Slots, the latest message and
the active loop are sent whole, as Rasa sends them.
"""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable, Dict, List, Sequence, Text

import rasa
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import EventVerbosity

ACTION_TURNS = 30  # user messages an action sees (the hand-over summary names the last 10 topics among them)


def recent_events(events: Sequence[Event], turns: int = ACTION_TURNS) -> List[Event]:
    """`events` from the `turns`-th last user message on (all when there are fewer)."""
    seen = 0
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            seen += 1
            if seen == turns:
                return [events[i] for i in range(index, len(events))]
    return list(events)


def action_call_format(original: Callable) -> Callable:
    """RemoteAction._action_call_format with the recent events only."""

    @wraps(original)
    def _action_call_format(self: Any, tracker: Any, domain: Any) -> Dict[Text, Any]:
        state = tracker.current_state(EventVerbosity.NONE)
        state["events"] = [event.as_dict() for event in recent_events(tracker.events)]
        result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": state,
                  "version": rasa.__version__}
        if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
            result["domain"] = domain.as_dict()
        return result

    return _action_call_format
