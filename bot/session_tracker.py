"""The tracker a turn works on, made so that a turn late in a long conversation
costs what an early one does.

Rasa rebuilds a conversation's session from every stored event at each turn
and its policies turn the whole session into dialogue states at every
prediction (`DialogueStateTracker.past_states`: all events replayed on a fresh
tracker, one state per action, five times per FAQ turn). A session of 100 FAQ
turns (600 events) made an FAQ turn cost 80 ms instead of 25 (README,
benchmarks). These keep it flat:

- `deserialise_events`: Rasa's, with the event class looked up once per type
  name (Rasa walks the whole Event class tree for every event it reads).
- `clone`: a copy of a tracker that shares its (unchanging) events, so the
  tracker store can hand out its cached copy of a session instead of
  rebuilding it (`bot.tracker_store`).
- `SessionTracker.past_states`: RulePolicy matches rules against the last few
  states only (our longest rule: 3), so the states of the turns before a
  `Window` are not computed: the window keeps the tracker state as it was at a
  turn boundary `Window.MIN_TURNS` or more turns back, and the states are
  computed from there. They are exactly the last states of the full list
  (tests/test_session_tracker.py compares both on real conversations): the
  boundary is the listen before a user message at which no form is active, and
  when an event after it would undo past it the full computation is used (and
  the next turn's window starts after that event). The featurization of
  policies that drop turns of rules (`ignore_rule_only_turns`: MemoizationPolicy,
  TED) depends on the whole history and is left as Rasa does it.
- The same window for what Rasa replays from the session's start: a reverted
  message (`replay_events`: the two-stage fallback gives up with one), a
  tracker copy after one (`copy`), the latest restart (`idx_after_latest_restart`,
  five times a fallback turn). 100 unclear messages in one conversation made
  a turn cost 3.4 times its first (bench/results/growth-fallbacks.md).
"""
from __future__ import annotations

import copy
import dataclasses
import itertools
import logging
import pickle
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Optional, Sequence, Text, Tuple, Type

from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import (
    ActionExecuted, ActionReverted, ActiveLoop, Event, FollowupAction, Restarted, SessionStarted, UserUttered,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

log = logging.getLogger(__name__)


# --- reading events ----------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _event_class(type_name: Text) -> Optional[Type[Event]]:
    return Event.resolve_by_type(type_name)


def deserialise_events(serialised: Iterable[Dict[Text, Any]]) -> List[Event]:
    """rasa.shared.core.events.deserialise_events, with each type's class looked up once."""
    events = []
    for data in serialised:
        if "event" not in data:
            continue
        name = data.get("event")
        cls = _event_class(name) if name is not None else None
        event = cls._from_parameters(data) if cls is not None else None
        if event:
            events.append(event)
        else:
            log.warning("an event of type %r could not be read", name)
    return events


# --- copying a tracker ------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _plain_class(kind: type) -> bool:
    """Whether copy.copy copies an instance of `kind` as its __dict__ alone: no
    copy hooks, no named __slots__ anywhere in its classes (ABC's empty ones are fine)."""
    return (kind.__reduce_ex__ is object.__reduce_ex__ and kind.__reduce__ is object.__reduce__
            and not hasattr(kind, "__copy__") and not hasattr(kind, "__setstate__")
            and not any(cls.__dict__.get("__slots__") for cls in kind.__mro__))


def _copied_slot(slot: Any) -> Any:
    """copy.copy(slot) (a new object with the same attributes), without the
    generic reduce-and-rebuild: 0.7 us instead of 2.3 a slot (11 us instead of
    34 for the domain's 15), for every tracker copy (five a turn)."""
    kind = type(slot)
    if not _plain_class(kind) or not hasattr(slot, "__dict__"):
        return copy.copy(slot)
    copied = kind.__new__(kind)
    copied.__dict__.update(slot.__dict__)
    return copied


def copy_state(tracker: DialogueStateTracker, cls: Type[DialogueStateTracker], events: Sequence[Event]) -> Any:
    """A tracker of class `cls` with `tracker`'s state and `events` as its
    events (a new deque; the event objects are shared). What applying events
    changes in place is copied: the slots, the active loop."""
    copied = cls.__new__(cls)
    copied.__dict__.update(tracker.__dict__)
    copied.events = copied._create_events(list(events))
    copied.slots = tracker.slots.__class__((name, _copied_slot(slot)) for name, slot in tracker.slots.items())
    copied.active_loop = dataclasses.replace(tracker.active_loop) if tracker.active_loop else tracker.active_loop
    return copied


def deep_copy(value: Any) -> Any:
    """copy.deepcopy(value), sooner for the plain dicts and lists of parsed
    messages: a pickle round trip copies them in C (25 us for a parsed FAQ
    message where deepcopy takes 200 and a Python walk 55). Like deepcopy, it
    copies a container met twice once (a user message's parse data holds its
    intent and entities again). What pickle cannot copy, deepcopy does."""
    try:
        return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    except (pickle.PicklingError, TypeError, AttributeError):
        return copy.deepcopy(value)


def copied_message(message: UserUttered, replaced: Sequence[Text] = ()) -> UserUttered:
    """What copy.deepcopy(message) returns (the same attributes, nothing shared),
    sooner; the attributes named in `replaced` are left out (None), for the
    caller to set."""
    own = copy.copy(message)
    kept = deep_copy({name: value for name, value in message.__dict__.items() if name not in replaced})
    own.__dict__ = {name: kept.get(name) for name in message.__dict__}
    return own


def clone(tracker: DialogueStateTracker) -> "SessionTracker":
    """A copy of `tracker` as a new tracker read from the same events would be,
    without reading them again. The events are shared except the latest user
    message, which later events of a turn may change (entities added, its
    featurization), and which is copied."""
    copied = copy_state(tracker, SessionTracker, tracker.events)
    latest = tracker.latest_message
    if latest is not None:
        own = copied_message(latest)
        for index in range(len(copied.events) - 1, -1, -1):
            if copied.events[index] is latest:
                copied.events[index] = own
                break
        copied.latest_message = own
    return copied


# --- the window -------------------------------------------------------------------------------

class _NotLocal(Exception):
    """The events after a window's start undo or reset what came before it."""


def _applied_events(tracker: DialogueStateTracker, events: Sequence[Event], from_start: bool) -> List[Event]:
    """DialogueStateTracker.applied_events over `events` alone. Unless they
    are `from_start` (the whole session), _NotLocal is raised where Rasa's
    would undo events from before them or start again (a restart). Loop
    executions are undone as Rasa does: no form is active at a window's start,
    so the search for a form's earlier execution ends there as it would in the
    whole history."""
    def undo_till(event_type: Type[Event], done: List[Event]) -> None:
        if not from_start and not any(isinstance(e, event_type) for e in done):
            raise _NotLocal()
        tracker._undo_till_previous(event_type, done)

    loop_names = {e.name for e in events if isinstance(e, ActiveLoop) and e.name}
    applied: List[Event] = []
    for event in events:
        if isinstance(event, (Restarted, SessionStarted)):
            if not from_start:
                raise _NotLocal()
            applied = []
        elif isinstance(event, ActionReverted):
            undo_till(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            undo_till(UserUttered, applied)
            undo_till(ActionExecuted, applied)
        elif (isinstance(event, ActionExecuted) and event.action_name in loop_names
              and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)):
            tracker._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)
    return applied


@dataclasses.dataclass(frozen=True)
class Window:
    """Where a session's recent turns start: `events[start]` is the
    `action_listen` before a user message at which no form is active (the
    listen, not the message: a fallback given up on reverts the message that
    started it and the listen before it). `state` is the tracker Rasa's
    `generate_all_prior_trackers` has built when it comes to that event,
    `applied_before` the applied events before it, `after_restart` the index
    after the latest restart before it (0: none). Neither is ever changed
    (shared by the copies of a session)."""

    start: int
    state: DialogueStateTracker
    applied_before: Tuple[Event, ...]
    after_restart: int = 0

    MIN_TURNS = 4  # turns a window keeps at least (an FAQ turn gives two states)
    MAX_TURNS = 8  # then it moves forward, replaying the turns it leaves behind once
    # States the policies get at least (fewer, after reverted turns: all of them). RulePolicy
    # looks at as many as its longest rule has (ours: 3; tests/test_session_tracker.py checks).
    MIN_STATES = 8


def _is_turn_start(events: Sequence[Event], index: int) -> bool:
    return (index > 0 and isinstance(events[index], UserUttered) and isinstance(events[index - 1], ActionExecuted)
            and events[index - 1].action_name == ACTION_LISTEN_NAME)


def _is_window_start(events: Sequence[Event], index: int) -> bool:
    return index + 1 < len(events) and _is_turn_start(events, index + 1)


def window_for(tracker: DialogueStateTracker, window: Optional[Window]) -> Optional[Window]:
    """`window`, or one further on when more than MAX_TURNS turns start after
    it (None: no window yet). Moving it replays the events it moves past: on
    average nothing per turn."""
    events = list(tracker.events)
    if window is not None and not _holds(tracker, events, window.start):
        window = None  # a revert since has undone events before its start: choose again
    start = window.start if window else 0
    turns = [i for i in range(max(start, 1), len(events)) if _is_turn_start(events, i)]
    if len(turns) <= Window.MAX_TURNS:
        return window
    candidates = [turn - 1 for turn in turns[:len(turns) - Window.MIN_TURNS + 1] if turn - 1 > start]
    for candidate in reversed(candidates[-4:]):  # the latest turns with no form active
        if not _holds(tracker, events, candidate):
            continue
        try:
            moved = _moved(tracker, events, window, candidate)
        except _NotLocal:  # a restart or a revert since the window: from the session's start
            moved = _moved(tracker, events, None, candidate)
        if moved is not None:
            return moved
    return window


def _holds(tracker: DialogueStateTracker, events: List[Event], start: int) -> bool:
    """Whether a window may start at `start`: nothing after it undoes events before it."""
    try:
        _applied_events(tracker, events[start:], from_start=False)
    except _NotLocal:
        return False
    return True


def _moved(tracker: DialogueStateTracker, events: List[Event], window: Optional[Window],
           start: int) -> Optional[Window]:
    """A window starting at `start`, from `window` (None: from the session's
    start); None if a form is active there."""
    state = window.state if window else tracker.init_copy()  # init_copy: the slots' initial values
    passed = range(window.start if window else 0, start)
    applied = _applied_events(tracker, events[passed.start:start], from_start=window is None)
    replay = copy_state(state, DialogueStateTracker, ())
    for event in applied:
        replay.update(event)
    if replay.active_loop_name is not None:
        return None
    replay.events.clear()  # only its state is used
    restarts = [index for index in passed if isinstance(events[index], Restarted)]
    after_restart = restarts[-1] + 1 if restarts else (window.after_restart if window else 0)
    return Window(start, replay, (window.applied_before if window else ()) + tuple(applied), after_restart)


class _WindowView:
    """What `Domain.states_for_tracker_history` asks of a tracker (its prior
    trackers), for the applied events from a window's start on."""

    def __init__(self, window: Window, applied: List[Event]) -> None:
        self.window, self.applied = window, applied

    def generate_all_prior_trackers(self):
        prior = copy_state(self.window.state, DialogueStateTracker, ())
        for event in self.applied:
            if isinstance(event, ActionExecuted):
                yield prior, event.hide_rule_turn
            prior.update(event)
        yield prior, False


def _followup_by_replay(events: Sequence[Event]) -> Any:
    """The follow-up action a replay of `events` leaves (what Rasa's `copy`
    gives; the processor clears a follow-up it takes without an event), or
    _UNKNOWN when a reverting event makes the replay replay itself."""
    for event in reversed(events):
        if isinstance(event, FollowupAction):
            return event.action_name
        if isinstance(event, (UserUttered, ActionExecuted)):
            return None
        if isinstance(event, Restarted):
            return ACTION_SESSION_START_NAME
        if isinstance(event, SessionStarted):
            return ACTION_LISTEN_NAME
        if isinstance(event, (UserUtteranceReverted, ActionReverted)):
            return _UNKNOWN
    return ACTION_LISTEN_NAME  # a new tracker's


_UNKNOWN = object()


class SessionTracker(DialogueStateTracker):
    """A conversation's session as the tracker store hands it to a turn.
    What Rasa recomputes from every event at each use is computed from the
    window on, with the same result (see the module's doc)."""

    window: Optional[Window] = None

    def _applied_since_window(self, end: Optional[int] = None) -> Optional[List[Event]]:
        """The applied events of `events[window.start:end]` (None: the window cannot tell)."""
        window = self.window
        if window is None or not _is_window_start(self.events, window.start):
            return None
        if end is not None and end <= window.start:
            return None
        try:
            return _applied_events(self, list(itertools.islice(self.events, window.start, end)), from_start=False)
        except _NotLocal:
            return None

    def applied_events(self) -> List[Event]:
        since = self._applied_since_window()
        if since is None:
            return super().applied_events()
        return [*self.window.applied_before, *since]

    def past_states(self, domain: Domain, omit_unset_slots: bool = False, ignore_rule_only_turns: bool = False,
                    rule_only_data: Optional[Dict[Text, Any]] = None) -> List[State]:
        """RulePolicy's states: those of the window, the last ones of Rasa's
        whole list. Policies that drop rule turns (ignore_rule_only_turns) carry
        a state across the whole history: theirs are Rasa's."""
        since = None if ignore_rule_only_turns else self._applied_since_window()
        if since is None:
            return super().past_states(domain, omit_unset_slots=omit_unset_slots,
                                       ignore_rule_only_turns=ignore_rule_only_turns, rule_only_data=rule_only_data)
        states = domain.states_for_tracker_history(_WindowView(self.window, since), omit_unset_slots=omit_unset_slots,
                                                   ignore_rule_only_turns=False, rule_only_data=rule_only_data)
        if len(states) < Window.MIN_STATES:
            return super().past_states(domain, omit_unset_slots=omit_unset_slots, rule_only_data=rule_only_data)
        return states

    def replay_events(self) -> None:
        """Rasa's replay (what a reverted message or action does: the state as
        at the start, then every applied event again), from the window's state
        on. A conversation of fallbacks reverts a message every other turn."""
        since = self._applied_since_window()
        if since is None:
            return super().replay_events()
        _restore(self, self.window.state)
        for event in since:
            event.apply_to(self)

    def idx_after_latest_restart(self) -> int:
        """Rasa's (every event looked at, by ABC isinstance: called five times
        a turn by the two-stage fallback), from the window's start on."""
        window = self.window
        if window is None or not _is_window_start(self.events, window.start):
            return super().idx_after_latest_restart()
        events = self.events
        for index in range(len(events) - 1, window.start - 1, -1):
            if isinstance(events[index], Restarted):
                return index + 1
        return window.after_restart

    def copy(self) -> DialogueStateTracker:
        """Rasa's copy (a new tracker with every event replayed: the processor
        makes one for every action it runs), without the replay."""
        followup = _followup_by_replay(self.events)
        if followup is _UNKNOWN:
            followup = self._followup_after_last_revert()
        if followup is _UNKNOWN:
            return super().copy()
        copied = clone(self)
        copied.followup_action = followup
        copied.model_id = copied.assistant_id = copied.sender_source = None  # as Rasa's init_copy leaves them
        return copied

    def _followup_after_last_revert(self) -> Any:
        """The follow-up action Rasa's replay leaves when no event after the
        last revert decides it: a revert replays the applied events before it
        from a reset tracker, so theirs (_UNKNOWN: the window cannot tell)."""
        events = self.events
        last = next(i for i in range(len(events) - 1, -1, -1)
                    if isinstance(events[i], (UserUtteranceReverted, ActionReverted)))
        since = self._applied_since_window(last + 1)
        if since is None:
            return _UNKNOWN
        return _followup_by_replay([*self.window.applied_before, *since])


_REPLAYED = ("_paused", "latest_message", "latest_bot_utterance", "followup_action")  # the events, shared


def _restore(tracker: DialogueStateTracker, state: DialogueStateTracker) -> None:
    """Gives `tracker` the state a replay has reached at `state` (what Rasa's
    _reset resets, set as `state` has it; `state` itself stays unchanged)."""
    for name, slot in state.slots.items():
        tracker.slots[name] = _copied_slot(slot)
    for name in _REPLAYED:
        setattr(tracker, name, getattr(state, name))
    tracker.latest_action = dict(state.latest_action)
    tracker.active_loop = dataclasses.replace(state.active_loop) if state.active_loop else state.active_loop
