"""The facts tables: what the figures and the review inbox read, written only
by the indexer (bot/insights/indexer.py) from the tracker store's events.

- `insight_turns`: one row per citizen message (the tracker store's text, already redacted), with what
  NLU made of it (`outcome`: answered, low_confidence, fallback, out_of_scope, or held: typed while a
  person had the conversation, no NLU), whether it asked for a person, and the id of the answer the
  widget rates (bot/core/message_ids.py) with the rating it got, if any (the figures by topic read it
  there: a join of the ratings with the turns cost half a second at 100 000 conversations).
- `insight_conversations`: one row per Rasa session: its channel, first and last message, counts, the
  first hand-over request and when staff first claimed it.
- `insight_progress`: the last tracker event indexed (row "tracker"), the last up/down rating copied to
  its turn (row "feedback"), and the lease that lets one web process index at a time.

A conversation is only its keyed hash (bot/core/opaque.py conversation_key). `day` is the local
date (China Standard Time, UTC+8, no daylight saving) a row belongs to: the figures' periods are
local days, and a plain date column keeps their queries simple and indexed on every database.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Dict, Optional, Tuple

from sqlalchemy import (
    Boolean, Column, Date, DateTime, Float, Index, Integer, String, UniqueConstraint, delete, select, tuple_,
)
from sqlalchemy.orm import Session

from bot.text import normalize_text
from bot.web.staff.models import Base

LOW_CONFIDENCE = 0.6  # an answered turn whose label's confidence is below this is low_confidence
LOCAL_OFFSET = dt.timedelta(hours=8)  # Asia/Shanghai
TIMEZONE = "Asia/Shanghai"

FALLBACK, OUT_OF_SCOPE, RETRIEVAL_INTENT = "nlu_fallback", "out_of_scope", "faq"
ANSWERED, LOW, FELL_BACK, DECLINED, HELD = "answered", "low_confidence", "fallback", "out_of_scope", "held"
OUTCOMES = (ANSWERED, LOW, FELL_BACK, DECLINED, HELD)
UNANSWERED = (FELL_BACK, DECLINED)
# Intents that are conversation, not a topic a citizen asks about (left out of the top topics).
SMALL_TALK = frozenset({"greet", "goodbye", "thank", "affirm", "deny", "stop", "bot_challenge"})
CHANNELS = {"rest": "web"}  # input_channel -> the figures' name; others as they are

TEXT_CHARS, NORM_CHARS, LABEL_CHARS = 1000, 200, 96
_NOT_WORDS = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\d+")


class InsightTurn(Base):
    __tablename__ = "insight_turns"
    # The figures read these indexes alone (PostgreSQL: index-only scans): each holds every column its query
    # needs (bench/bench_analytics.py: 100 000 conversations).
    __table_args__ = (
        Index("ix_insight_turns_figures", "day", "outcome", "channel", "topic"),
        Index("ix_insight_turns_unanswered", "outcome", "day", "norm", "id"),
        Index("ix_insight_turns_answer", "conversation", "answer_id"),
        Index("ix_insight_turns_feedback", "feedback_day", "topic", "feedback"),
        Index("ix_insight_turns_session", "conversation", "session_id"),
    )

    id = Column(Integer, primary_key=True)
    event_id = Column(Integer, nullable=False, unique=True)  # the tracker's events.id
    conversation = Column(String(32), nullable=False)
    session_id = Column(Integer, nullable=False, default=0)  # events.id of the session's start; 0: none seen
    at = Column(DateTime, nullable=False, index=True)  # naive UTC
    day = Column(Date, nullable=False)  # local date of `at`
    channel = Column(String(32), nullable=False)
    language = Column(String(8), nullable=False)
    text = Column(String(TEXT_CHARS), nullable=False)  # as the tracker store keeps it: redacted
    norm = Column(String(NORM_CHARS), nullable=False)  # group_key(text)
    intent = Column(String(LABEL_CHARS), nullable=True)
    topic = Column(String(LABEL_CHARS), nullable=True)
    predicted = Column(String(LABEL_CHARS), nullable=True)
    confidence = Column(Float, nullable=True)
    outcome = Column(String(16), nullable=False)
    handoff = Column(Boolean, nullable=False, default=False)
    answer_id = Column(String(32), nullable=True)
    model_id = Column(String(64), nullable=True)
    # The citizen's up/down of the answer (chat_message_feedback, copied by the indexer) and its local day.
    feedback = Column(String(4), nullable=True)
    feedback_day = Column(Date, nullable=True)


class InsightConversation(Base):
    __tablename__ = "insight_conversations"
    __table_args__ = (UniqueConstraint("conversation", "session_id", name="uq_insight_conversations_session"),
                      Index("ix_insight_conversations_figures", "day", "channel", "turns", "messages", "handoff_at",
                            "claimed_at"))

    id = Column(Integer, primary_key=True)
    conversation = Column(String(32), nullable=False)
    session_id = Column(Integer, nullable=False, default=0)
    channel = Column(String(32), nullable=True)  # of its first citizen message
    started_at = Column(DateTime, nullable=False)
    day = Column(Date, nullable=False)  # local date of started_at: the day the figures count it on
    last_at = Column(DateTime, nullable=False, index=True)
    messages = Column(Integer, nullable=False, default=0)  # citizen and bot (and staff) messages
    turns = Column(Integer, nullable=False, default=0)  # citizen messages
    fallbacks = Column(Integer, nullable=False, default=0)
    handoff_at = Column(DateTime, nullable=True)  # the first hand-over request
    claimed_at = Column(DateTime, nullable=True)  # the first claim after it
    # The citizen turn the next bot messages answer (events.id); NULL after an intent triggered from outside.
    open_turn_event_id = Column(Integer, nullable=True)


class InsightProgress(Base):
    __tablename__ = "insight_progress"

    name = Column(String(32), primary_key=True)
    last_event_id = Column(Integer, nullable=False, default=0)
    lease_owner = Column(String(64), nullable=True)
    lease_until = Column(DateTime, nullable=True)


def group_key(text: Optional[str]) -> str:
    """The key similar messages share: NFKC, simplified, lower case, punctuation and spaces removed,
    each run of digits one 0 ("补卡 要钱吗？" = "补卡要钱吗", "12333" = "999"), first NORM_CHARS."""
    folded = _NOT_WORDS.sub("", normalize_text(text or ""))
    return _DIGITS.sub("0", folded)[:NORM_CHARS]


def local_day(at: dt.datetime) -> dt.date:
    return (at + LOCAL_OFFSET).date()


def utc_bounds(first: dt.date, last: dt.date) -> Tuple[dt.datetime, dt.datetime]:
    """[start, end) in naive UTC of the local days first..last."""
    start = dt.datetime.combine(first, dt.time()) - LOCAL_OFFSET
    return start, dt.datetime.combine(last + dt.timedelta(days=1), dt.time()) - LOCAL_OFFSET


def channel_name(input_channel: Any) -> str:
    name = input_channel if isinstance(input_channel, str) and input_channel else "unknown"
    return CHANNELS.get(name, name)[:32]


def _number(value: Any) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _faq_choice(parse_data: Dict[str, Any]) -> Tuple[Optional[str], Optional[float]]:
    """The response selector's best FAQ key and its confidence."""
    selector = (parse_data.get("response_selector") or {}).get(RETRIEVAL_INTENT) or {}
    response = selector.get("response") or {}
    key = response.get("intent_response_key")
    confidence = _number(response.get("confidence"))
    if not isinstance(key, str):
        ranking = [r for r in selector.get("ranking") or [] if isinstance(r, dict)]
        if ranking:
            key, confidence = ranking[0].get("intent_response_key"), _number(ranking[0].get("confidence"))
    if not isinstance(key, str) or not key:
        return None, None
    return (key if key.startswith(RETRIEVAL_INTENT + "/") else f"{RETRIEVAL_INTENT}/{key}"), confidence


def classify(parse_data: Any) -> Dict[str, Any]:
    """intent, topic, predicted, confidence and outcome of a citizen message from its parse_data.

    `predicted` is the best label other than nlu_fallback (faq/<key> for an FAQ, whose confidence is the
    intent's times the response selector's, as the answer guard counts it); a message without an intent
    (held during a hand-over) is `held`."""
    parse_data = parse_data if isinstance(parse_data, dict) else {}
    intent_data = parse_data.get("intent") if isinstance(parse_data.get("intent"), dict) else {}
    intent = intent_data.get("name") if isinstance(intent_data.get("name"), str) and intent_data.get("name") else None
    if intent is None:
        return {"intent": None, "topic": None, "predicted": None, "confidence": None, "outcome": HELD}
    ranking = [r for r in parse_data.get("intent_ranking") or [] if isinstance(r, dict)]
    if intent != FALLBACK:
        best, confidence = intent, _number(intent_data.get("confidence"))
    else:
        others = [r for r in ranking if isinstance(r.get("name"), str) and r["name"] != FALLBACK]
        best = others[0]["name"] if others else None
        confidence = _number(others[0].get("confidence")) if others else None
    predicted = best
    if best == RETRIEVAL_INTENT:
        key, faq_confidence = _faq_choice(parse_data)
        if key:
            predicted = key
            confidence = confidence * faq_confidence if confidence is not None and faq_confidence is not None \
                else confidence
    if intent == FALLBACK:
        outcome, topic = FELL_BACK, intent
    elif intent == OUT_OF_SCOPE:
        outcome, topic = DECLINED, intent
    else:
        outcome = LOW if confidence is not None and confidence < LOW_CONFIDENCE else ANSWERED
        topic = predicted.split("/", 1)[1] if predicted and predicted.startswith(RETRIEVAL_INTENT + "/") else intent
    return {"intent": intent[:LABEL_CHARS], "topic": topic[:LABEL_CHARS] if topic else None,
            "predicted": predicted[:LABEL_CHARS] if predicted else None, "confidence": confidence,
            "outcome": outcome}


def purge(session: Session, cutoff: dt.datetime) -> int:
    """Deletes the facts of the sessions whose last message is older than `cutoff` (naive UTC), their
    turns with them (retention, RETENTION_DAYS); the number of sessions deleted. The caller commits."""
    old = select(InsightConversation.conversation, InsightConversation.session_id) \
        .where(InsightConversation.last_at < cutoff)
    session.execute(delete(InsightTurn).where(tuple_(InsightTurn.conversation, InsightTurn.session_id).in_(old))
                    .execution_options(synchronize_session=False))
    deleted = session.execute(delete(InsightConversation).where(InsightConversation.last_at < cutoff)
                              .execution_options(synchronize_session=False)).rowcount
    return deleted or 0
