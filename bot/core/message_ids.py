"""The id and time a message of a conversation is known by, from its event's
timestamp: the same whether the REST channel answers a turn with it or the
web process reads it back from the tracker (bot/web/rasa_client.py), so the
widget can rate a turn's answer at once and tell messages it has from new ones."""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Optional

# The responses that end a conversation (a message with `"end": true`): the widget asks for a rating.
ENDING_RESPONSES = frozenset({"utter_goodbye"})


def stamp(timestamp: Any, kind: str, seen: Dict[str, int]) -> Dict[str, str]:
    """"at" (ISO-8601 UTC) and a stable "id" for an event of `kind` ("user",
    "bot") at `timestamp`; none without one (every event Rasa stores has one).
    `seen` counts the ids given so far: two events of one microsecond get -2, -3..."""
    if not isinstance(timestamp, (int, float)) or isinstance(timestamp, bool):
        return {}
    at = dt.datetime.fromtimestamp(timestamp, dt.timezone.utc)
    base = f"{kind[0]}{int(round(timestamp * 1_000_000))}"
    seen[base] = seen.get(base, 0) + 1
    return {"at": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "id": base if seen[base] == 1 else f"{base}-{seen[base]}"}


def ends_conversation(utter_action: Optional[str]) -> Dict[str, bool]:
    return {"end": True} if utter_action in ENDING_RESPONSES else {}
