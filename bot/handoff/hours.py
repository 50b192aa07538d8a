"""Staff hours: HANDOFF_HOURS, e.g. `Mon-Fri 09:00-17:00` or
`Mon-Fri 09:00-12:00,13:30-17:00; Sat 09:00-12:00`, always in Asia/Shanghai
(the citizens' clock, whatever the server's). `always` and `never` are allowed
too (a 24-hour hotline; live help switched off).

A bad value is refused when read (ValueError naming the setting), so a typo
stops the process at start rather than silently closing the queue.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import List, Optional, Tuple
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
