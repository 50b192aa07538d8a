"""Staff hours: HANDOFF_HOURS, e.g. `Mon-Fri 09:00-17:00` or
`Mon-Fri 09:00-12:00,13:30-17:00; Sat 09:00-12:00`, always in Asia/Shanghai
(the citizens' clock, whatever the server's). `always` and `never` are allowed
too (a 24-hour hotline; live help switched off).

A bad value is refused when read (ValueError naming the setting), so a typo
stops the process at start rather than silently closing the queue.

HANDOFF_WAIT_MINUTES (how long a citizen waits in the queue before being
offered a call back) is read here too: `wait_minutes()`.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import List, Mapping, Optional, Tuple
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAYS_PART = re.compile(r"^([a-z]{3})(?:-([a-z]{3}))?$")
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class StaffHours:
    """For each weekday (0 = Monday), the (start, end) minutes of the day staff answer."""
    spans: Tuple[Tuple[Tuple[int, int], ...], ...]
    text: str

    def open_at(self, when: Optional[dt.datetime] = None) -> bool:
        local = (when or dt.datetime.now(dt.timezone.utc)).astimezone(SHANGHAI)
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.spans[local.weekday()])

    @property
    def never(self) -> bool:
        """No live help at any time (`never`)."""
        return not any(self.spans)

    def groups(self) -> List[Tuple[int, int, Tuple[Tuple[int, int], ...]]]:
        """(first weekday, last weekday, spans) for each run of consecutive days
        with the same hours, closed days left out: what a citizen is told
        (`Mon-Fri 09:00-17:00; Sat 09:00-12:00`); worded by the actions."""
        runs: List[Tuple[int, int, Tuple[Tuple[int, int], ...]]] = []
        for day, spans in enumerate(self.spans):
            if spans and runs and runs[-1][1] == day - 1 and runs[-1][2] == spans:
                runs[-1] = (runs[-1][0], day, spans)
            elif spans:
                runs.append((day, day, spans))
        return runs


def clock(minute: int) -> str:
    """09:00 for 540; 24:00 for the end of the day."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _minutes(hours: str, minutes: str, text: str) -> int:
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > 24 * 60:
        raise ValueError(f"HANDOFF_HOURS: {text!r} is not a time of day")
    return value


def parse(text: str) -> StaffHours:
    """`Mon-Fri 09:00-17:00; Sat 09:00-12:00`, `always` or `never`."""
    cleaned = " ".join((text or "").split())
    if cleaned.lower() == "always":
        return StaffHours(tuple(((0, 24 * 60),) for _ in DAYS), cleaned)
    if cleaned.lower() == "never":
        return StaffHours(tuple(() for _ in DAYS), cleaned)
    week: List[List[Tuple[int, int]]] = [[] for _ in DAYS]
    for part in filter(None, (p.strip() for p in cleaned.split(";"))):
        days_text, _, spans_text = part.partition(" ")
        days = _DAYS_PART.match(days_text.lower())
        if not days or days.group(1) not in DAYS or (days.group(2) and days.group(2) not in DAYS) or not spans_text:
            raise ValueError(f"HANDOFF_HOURS: {part!r} is not like `Mon-Fri 09:00-17:00`")
        first = DAYS.index(days.group(1))
        last = DAYS.index(days.group(2) or days.group(1))
        if last < first:
            raise ValueError(f"HANDOFF_HOURS: {days_text!r} runs backwards")
        for span_text in spans_text.replace(" ", "").split(","):
            span = _SPAN.match(span_text)
            if not span:
                raise ValueError(f"HANDOFF_HOURS: {span_text!r} is not like `09:00-17:00`")
            start = _minutes(span.group(1), span.group(2), span_text)
            end = _minutes(span.group(3), span.group(4), span_text)
            if end <= start:
                raise ValueError(f"HANDOFF_HOURS: {span_text!r} ends before it starts")
            for day in range(first, last + 1):
                week[day].append((start, end))
    if not any(week):
        raise ValueError("HANDOFF_HOURS is empty: give hours like `Mon-Fri 09:00-17:00`, or `never`")
    return StaffHours(tuple(tuple(sorted(d)) for d in week), cleaned)


@lru_cache(maxsize=8)
def _parsed(text: str) -> StaffHours:
    return parse(text)


def configured(environ: Optional[Mapping[str, str]] = None) -> StaffHours:
    """HANDOFF_HOURS as set (bot/core/settings.py); ValueError when malformed."""
    from bot.core.settings import resolved

    return _parsed(resolved(dict(environ) if environ is not None else None)["HANDOFF_HOURS"])


def wait_minutes(environ: Optional[Mapping[str, str]] = None) -> int:
    """HANDOFF_WAIT_MINUTES as set: a whole number of minutes, at least 1."""
    from bot.core.settings import resolved

    text = resolved(dict(environ) if environ is not None else None)["HANDOFF_WAIT_MINUTES"].strip()
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"HANDOFF_WAIT_MINUTES: {text!r} is not a whole number of minutes (1 or more)")
    return int(text)
