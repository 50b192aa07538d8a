"""The latest session of the conversations this Rasa process served lately, as
stored (redacted), so that the tracker store reads a conversation from the
database only when the database holds something this process has not seen.

Each session is kept with the key of its conversation at the time, (number of
stored events, highest event id): any event stored or deleted by any process
changes it, so a replica that another replica's turn has overtaken reads the
conversation again. Bounded by the number of events held (the least recently
used sessions are dropped first).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Optional, Text, Tuple

from rasa.shared.core.trackers import DialogueStateTracker

Key = Tuple[int, Optional[int]]  # (events stored for the conversation, highest event id)

# 3.6 KB each in memory (measured on FAQ turns, 6 events each): 10 000 events are 36 MB at
# most, the sessions of 200 citizens ten turns into their conversations.
MAX_EVENTS = 10_000


class SessionCache:
    def __init__(self, max_events: int = MAX_EVENTS) -> None:
        self.max_events = max_events
        self._sessions: "OrderedDict[Text, Tuple[Key, DialogueStateTracker]]" = OrderedDict()
        self._events = 0
        self._lock = threading.Lock()

    def get(self, conversation_id: Text, key: Key) -> Optional[DialogueStateTracker]:
        """The cached session if the conversation's key is still `key` (the
        object itself: callers copy it before changing anything)."""
        with self._lock:
            entry = self._sessions.get(conversation_id)
            if entry is None or entry[0] != key:
                return None
            self._sessions.move_to_end(conversation_id)
            return entry[1]

    def put(self, conversation_id: Text, key: Key, tracker: DialogueStateTracker) -> None:
        with self._lock:
            self._drop(conversation_id)
            if len(tracker.events) > self.max_events:
                return
            self._sessions[conversation_id] = (key, tracker)
            self._events += len(tracker.events)
            while self._events > self.max_events:
                self._drop(next(iter(self._sessions)))

    def drop(self, conversation_id: Text) -> None:
        with self._lock:
            self._drop(conversation_id)

    def _drop(self, conversation_id: Text) -> None:
        entry = self._sessions.pop(conversation_id, None)
        if entry is not None:
            self._events -= len(entry[1].events)
