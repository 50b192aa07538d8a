"""The figures of a period of local days (China Standard Time), from the facts tables and the
citizens' ratings: what /api/staff/analytics answers (JSON) and exports (CSV).

What each figure counts:
- conversations: Rasa sessions with at least one citizen message that started in the period;
  messages: their citizen, bot and staff messages;
- handoffs: those conversations in which a person was asked for (live or call back); contained_rate:
  the share that ended without one; median_handoff_wait_s: from the request to the first claim, over
  the hand-overs that were claimed;
- fallback_rate: citizen messages that fell to "did you mean" (nlu_fallback), of those NLU saw (not
  the ones held while a person had the conversation); outcomes: all of them by outcome;
- top_topics: the answered messages' FAQ key or intent (small talk aside); unanswered: the most-asked
  messages that fell back or were out of scope, grouped by facts.group_key (the latest example);
- csat and feedback: the ratings and up/down given in the period; feedback_by_topic: the up/down given
  in the period to the answers of indexed turns, by the turn's topic (the indexer copies each to its turn).
A rate with nothing to count is null.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from statistics import median
from typing import Any, Dict, Iterable, Optional, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.insights.facts import (
    ANSWERED, FELL_BACK, HELD, LOW, OUTCOMES, SMALL_TALK, TIMEZONE, UNANSWERED, InsightConversation, InsightTurn,
    InsightProgress, local_day, utc_bounds,
)
from bot.web.ratings import ConversationRating, MessageFeedback

DEFAULT_DAYS = 30
MAX_DAYS = 366
TOP = 10
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class PeriodError(ValueError):
    """The period asked for is not one (the message says why)."""


def _date(value: Optional[str], name: str) -> Optional[dt.date]:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _DATE.match(value):
        raise PeriodError(f"`{name}` must be a date as YYYY-MM-DD.")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise PeriodError(f"`{name}` is not a date of the calendar.") from None


def period(start: Optional[str], end: Optional[str], today: Optional[dt.date] = None) -> Tuple[dt.date, dt.date]:
    """(first, last) local days of `from` / `to` (inclusive); none given: the last DEFAULT_DAYS days."""
    today = today or local_day(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
    first, last = _date(start, "from"), _date(end, "to")
    if last is None:
        last = today if first is None or first <= today else first
    if first is None:
        first = last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise PeriodError("`from` must not be after `to`.")
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError(f"A period is at most {MAX_DAYS} days.")
    return first, last


def _rate(part: float, whole: float) -> Optional[float]:
    return round(part / whole, 4) if whole else None


def _day_key(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]


def figures(session: Session, first: dt.date, last: dt.date) -> Dict[str, Any]:
    start, end = utc_bounds(first, last)
    in_days = (InsightConversation.day >= first, InsightConversation.day <= last, InsightConversation.turns > 0)
    turn_days = (InsightTurn.day >= first, InsightTurn.day <= last)

    days = {(first + dt.timedelta(days=n)).isoformat(): {"conversations": 0, "messages": 0, "handoffs": 0,
                                                          "turns": 0, "fallbacks": 0}
            for n in range((last - first).days + 1)}
    channels: Dict[str, Dict[str, int]] = {}

    def channel(name: Optional[str]) -> Dict[str, int]:
        return channels.setdefault(name or "unknown", {"conversations": 0, "messages": 0, "handoffs": 0,
                                                       "turns": 0, "fallbacks": 0})

    for day, name, count, messages, handoffs in session.execute(
            select(InsightConversation.day, InsightConversation.channel, func.count(),
                   func.coalesce(func.sum(InsightConversation.messages), 0), func.count(InsightConversation.handoff_at))
            .where(*in_days).group_by(InsightConversation.day, InsightConversation.channel)):
        for bucket in (days[_day_key(day)], channel(name)):
            bucket["conversations"] += count
            bucket["messages"] += int(messages)
            bucket["handoffs"] += handoffs

    # Index-only scans of ix_insight_turns_figures on PostgreSQL; the database adds up.
    outcomes = {outcome: 0 for outcome in OUTCOMES}
    for day, name, outcome, count in session.execute(
            select(InsightTurn.day, InsightTurn.channel, InsightTurn.outcome, func.count()).where(*turn_days)
            .group_by(InsightTurn.day, InsightTurn.outcome, InsightTurn.channel)):
        outcomes[outcome] = outcomes.get(outcome, 0) + count
        if outcome == HELD:
            continue
        for bucket in (days[_day_key(day)], channel(name)):
            bucket["turns"] += count
            bucket["fallbacks"] += count if outcome == FELL_BACK else 0
    top_topics = [{"key": key, "count": count} for key, count in session.execute(
        select(InsightTurn.topic, func.count())
        .where(*turn_days, InsightTurn.outcome.in_((ANSWERED, LOW)), InsightTurn.topic.isnot(None),
               InsightTurn.topic.notin_(sorted(SMALL_TALK)))
        .group_by(InsightTurn.topic).order_by(func.count().desc(), InsightTurn.topic).limit(TOP))]

    waits = [(claimed - asked).total_seconds() for asked, claimed in session.execute(
        select(InsightConversation.handoff_at, InsightConversation.claimed_at)
        .where(*in_days, InsightConversation.claimed_at.isnot(None), InsightConversation.handoff_at.isnot(None)))]

    groups = session.execute(
        select(InsightTurn.norm, func.count(), func.max(InsightTurn.id))
        .where(*turn_days, InsightTurn.outcome.in_(UNANSWERED))
        .group_by(InsightTurn.norm).order_by(func.count().desc(), func.max(InsightTurn.id).desc()).limit(TOP)).all()
    examples = {row.id: row for row in session.execute(
        select(InsightTurn.id, InsightTurn.text, InsightTurn.language, InsightTurn.outcome, InsightTurn.at)
        .where(InsightTurn.id.in_([g[2] for g in groups])))} if groups else {}
    unanswered = [{"text": examples[latest].text, "language": examples[latest].language, "count": count,
                   "outcome": examples[latest].outcome,
                   "last_at": examples[latest].at.isoformat(timespec="seconds") + "Z"}
                  for _norm, count, latest in groups]

    scores = {str(score): 0 for score in range(1, 6)}
    for score, count in session.execute(
            select(ConversationRating.score, func.count())
            .where(ConversationRating.created_at >= start, ConversationRating.created_at < end)
            .group_by(ConversationRating.score)):
        scores[str(score)] = count
    rated = sum(scores.values())
    feedback = {"up": 0, "down": 0}
    for rating, count in session.execute(
            select(MessageFeedback.rating, func.count())
            .where(MessageFeedback.created_at >= start, MessageFeedback.created_at < end)
            .group_by(MessageFeedback.rating)):
        feedback[rating] = count
    by_topic: Dict[str, Dict[str, int]] = {}
    for topic, rating, count in session.execute(
            select(InsightTurn.topic, InsightTurn.feedback, func.count())
            .where(InsightTurn.feedback_day >= first, InsightTurn.feedback_day <= last, InsightTurn.feedback.isnot(None))
            .group_by(InsightTurn.topic, InsightTurn.feedback)):
        by_topic.setdefault(topic or "unknown", {"up": 0, "down": 0})[rating] = count

    conversations = sum(d["conversations"] for d in days.values())
    handoffs = sum(d["handoffs"] for d in days.values())
    turns = sum(d["turns"] for d in days.values())
    indexed = session.execute(select(InsightProgress.last_event_id)).scalar()

    def rates(bucket: Dict[str, int]) -> Dict[str, Any]:
        return {**bucket, "fallback_rate": _rate(bucket["fallbacks"], bucket["turns"]),
                "contained_rate": _rate(bucket["conversations"] - bucket["handoffs"], bucket["conversations"])}

    return {
        "from": first.isoformat(), "to": last.isoformat(), "timezone": TIMEZONE,
        "conversations": conversations,
        "messages": sum(d["messages"] for d in days.values()),
        "contained_rate": _rate(conversations - handoffs, conversations),
        "fallback_rate": _rate(outcomes[FELL_BACK], turns),
        "handoffs": handoffs,
        "median_handoff_wait_s": round(median(waits), 1) if waits else None,
        "csat": {"count": rated,
                 "average": round(sum(int(s) * n for s, n in scores.items()) / rated, 2) if rated else None,
                 "distribution": scores},
        "feedback": feedback,
        "top_topics": top_topics,
        # what the page shows besides
        "turns": turns,
        "outcomes": outcomes,
        "days": [{"date": day, **rates(bucket)} for day, bucket in days.items()],
        "channels": [{"channel": name, **rates(bucket)} for name, bucket in sorted(channels.items())],
        "feedback_by_topic": sorted(({"key": key, **counts} for key, counts in by_topic.items()),
                                    key=lambda t: (-(t["up"] + t["down"]), t["key"])),
        "unanswered": unanswered,
        "handoff_waits_claimed": len(waits),
        "indexed_event_id": indexed or 0,
    }


# --- CSV ----------------------------------------------------------------------------------------

CSV_COLUMNS = ("section", "key", "metric", "value")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A spreadsheet never reads a cell as a formula (a citizen's text may start with =)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def csv_rows(data: Dict[str, Any]) -> Iterable[Tuple[Any, ...]]:
    """The figures as (section, key, metric, value) rows: one table a spreadsheet can pivot."""
    yield ("period", "", "from", data["from"])
    yield ("period", "", "to", data["to"])
    yield ("period", "", "timezone", data["timezone"])
    for metric in ("conversations", "messages", "turns", "contained_rate", "fallback_rate", "handoffs",
                   "median_handoff_wait_s"):
        yield ("summary", "", metric, data[metric])
    yield ("summary", "", "csat_count", data["csat"]["count"])
    yield ("summary", "", "csat_average", data["csat"]["average"])
    yield ("summary", "", "feedback_up", data["feedback"]["up"])
    yield ("summary", "", "feedback_down", data["feedback"]["down"])
    for outcome, count in data["outcomes"].items():
        yield ("outcome", outcome, "turns", count)
    for score, count in data["csat"]["distribution"].items():
        yield ("csat", score, "ratings", count)
    for section, rows, key in (("day", data["days"], "date"), ("channel", data["channels"], "channel")):
        for row in rows:
            for metric in ("conversations", "messages", "turns", "fallbacks", "fallback_rate", "handoffs",
                           "contained_rate"):
                yield (section, row[key], metric, row[metric])
    for topic in data["top_topics"]:
        yield ("top_topic", topic["key"], "count", topic["count"])
    for topic in data["feedback_by_topic"]:
        yield ("topic_feedback", topic["key"], "up", topic["up"])
        yield ("topic_feedback", topic["key"], "down", topic["down"])
    for item in data["unanswered"]:
        yield ("unanswered", item["text"], "count", item["count"])


def to_csv(data: Dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in csv_rows(data):
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def csv_name(data: Dict[str, Any]) -> str:
    return f"helpdesk-figures_{data['from']}_{data['to']}.csv"
