"""The review inbox (issue 13): what the assistant did not handle well, one item per kind of
trouble and similar text, for a reviewer to label (training data, bot/insights/training_export.py)
or dismiss.

Kinds: "fallback" (NLU fell to nlu_fallback or out_of_scope), "low_confidence" (answered below
facts.LOW_CONFIDENCE), "handoff" (a person was asked for in that turn), "down" (a citizen rated the
answer to it "not helpful"). An item groups the turns of one kind whose text has the same group key
(insight_turns.norm): `count` of them, the first and last time, and the latest one's text (as the
tracker store keeps it: redacted), language, prediction and model.

`collect(session)` builds the items from the facts tables (bot/insights/facts.py), from the turns
and the ratings it has not seen (a watermark of each in `review_progress`); the indexer calls it
right after each batch, under its lease. A rating usually arrives before its turn is indexed, a turn
before its rating: each (turn, "down" rating) pair counts once, when the later of the two is seen.
New turns of a labelled or dismissed item count on it; its status stays.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional

from sqlalchemy import (Boolean, Column, DateTime, Float, Integer, String, UniqueConstraint, and_, column, delete,
                        func, select, table, update)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.privacy.pii import redact
from bot.web.ratings import MessageFeedback
from bot.web.staff.models import Base

KINDS = ("fallback", "low_confidence", "down", "handoff")
STATUSES = ("open", "labelled", "dismissed")
OUT_OF_SCOPE, NEW_TOPIC = "out_of_scope", "new_topic"
MAX_NOTE_CHARS = 500
BATCH = 5000  # turns (or ratings) read at a time
PROGRESS = "review"  # the one row of review_progress
# insight_turns.outcome -> the kind of item it makes (a hand-over request makes a "handoff" item besides)
KIND_OF_OUTCOME = {"fallback": "fallback", "out_of_scope": "fallback", "low_confidence": "low_confidence"}


class ReviewItem(Base):
    __tablename__ = "review_items"
    __table_args__ = (UniqueConstraint("kind", "norm", name="uq_review_items_kind_norm"),)

    id = Column(Integer, primary_key=True)
    kind = Column(String(16), nullable=False)
    norm = Column(String(200), nullable=False)  # facts.group_key of the text
    text = Column(String(1000), nullable=False)  # the latest example, as stored (redacted)
    language = Column(String(8), nullable=True)
    predicted = Column(String(96), nullable=True)
    confidence = Column(Float, nullable=True)
    model_id = Column(String(64), nullable=True)
    count = Column(Integer, nullable=False, default=0)
    first_at = Column(DateTime, nullable=False)
    last_at = Column(DateTime, nullable=False, index=True)
    status = Column(String(16), nullable=False, default="open", index=True)
    label = Column(String(96), nullable=True)
    note = Column(String(MAX_NOTE_CHARS), nullable=True)  # redacted
    reviewed_by = Column(String(64), nullable=True)  # a staff username
    reviewed_at = Column(DateTime, nullable=True)


class ReviewProgress(Base):
    """How far collect() has read: the last insight_turns id and chat_message_feedback id (one row)."""
    __tablename__ = "review_progress"

    name = Column(String(16), primary_key=True)  # "review"
    turns = Column(Integer, nullable=False, default=0)
    feedback = Column(Integer, nullable=False, default=0)


# The facts table as collect() reads it (bot/insights/facts.py owns and writes it): only these columns.
TURNS = table(
    "insight_turns", column("id", Integer), column("conversation", String), column("at", DateTime),
    column("language", String), column("text", String), column("norm", String), column("predicted", String),
    column("confidence", Float), column("outcome", String), column("handoff", Boolean),
    column("answer_id", String), column("model_id", String))
_TURN_FIELDS = ("id", "at", "language", "text", "norm", "predicted", "confidence", "model_id")


# --- collect ---------------------------------------------------------------------------------------

@dataclass
class _Group:
    count: int
    first_at: dt.datetime
    latest: Dict[str, Any]  # the turn with the latest `at`


def _watermarks(session: Session) -> tuple:
    query = select(ReviewProgress.turns, ReviewProgress.feedback).where(ReviewProgress.name == PROGRESS)
    found = session.execute(query).first()
    if found is not None:
        return tuple(found)
    try:
        with session.begin_nested():
            session.add(ReviewProgress(name=PROGRESS, turns=0, feedback=0))
    except IntegrityError:  # another process made it first
        pass
    return tuple(session.execute(query).one())


def _advance(session: Session, old: tuple, new: tuple) -> bool:
    """Moves the watermarks from old to new; False if another process moved them meanwhile (and so
    did this work: PostgreSQL's UPDATE waits for its commit, SQLite's writers are serialised)."""
    done = session.execute(update(ReviewProgress)
                           .where(ReviewProgress.name == PROGRESS, ReviewProgress.turns == old[0],
                                  ReviewProgress.feedback == old[1])
                           .values(turns=new[0], feedback=new[1]).execution_options(synchronize_session=False))
    return done.rowcount == 1


def _upto(session: Session, id_column, after: int, batch: int) -> int:
    """The id `batch` rows after `after` (or the last one)."""
    ids = select(id_column.label("id")).where(id_column > after).order_by(id_column).limit(batch).subquery()
    return session.execute(select(func.max(ids.c.id))).scalar() or after


def _add(groups: Dict[tuple, _Group], kind: str, turn: Dict[str, Any]) -> None:
    key = (kind, turn["norm"] or "")
    group = groups.get(key)
    if group is None:
        groups[key] = _Group(1, turn["at"], turn)
        return
    group.count += 1
    group.first_at = min(group.first_at, turn["at"])
    if (turn["at"], turn["id"]) >= (group.latest["at"], group.latest["id"]):
        group.latest = turn


def _turn_fields():
    return [TURNS.c[name] for name in _TURN_FIELDS]


def _new_turns(session: Session, after: int, upto: int, groups: Dict[tuple, _Group]) -> None:
    rows = session.execute(select(*_turn_fields(), TURNS.c.outcome, TURNS.c.handoff)
                           .where(TURNS.c.id > after, TURNS.c.id <= upto)).mappings()
    for row in rows:
        turn = {name: row[name] for name in _TURN_FIELDS}
        kind = KIND_OF_OUTCOME.get(row["outcome"])
        if kind:
            _add(groups, kind, turn)
        if row["handoff"]:
            _add(groups, "handoff", turn)


def _down_pairs(session: Session, turns_after: int, turns_upto: int, feedback_after: int, feedback_upto: int,
                groups: Dict[tuple, _Group]) -> None:
    """Turns in (turns_after, turns_upto] rated down by a rating in (feedback_after, feedback_upto]."""
    query = (select(*_turn_fields())
             .join(MessageFeedback, and_(MessageFeedback.conversation == TURNS.c.conversation,
                                         MessageFeedback.message_id == TURNS.c.answer_id))
             .where(MessageFeedback.rating == "down",
                    TURNS.c.id > turns_after, TURNS.c.id <= turns_upto,
                    MessageFeedback.id > feedback_after, MessageFeedback.id <= feedback_upto))
    for row in session.execute(query).mappings():
        _add(groups, "down", dict(row))


def _upsert(session: Session, groups: Dict[tuple, _Group]) -> None:
    for kind in KINDS:
        norms = [norm for k, norm in groups if k == kind]
        existing = {}
        for start in range(0, len(norms), 500):
            for item in session.execute(select(ReviewItem).where(ReviewItem.kind == kind,
                                                                 ReviewItem.norm.in_(norms[start:start + 500]))
                                        ).scalars():
                existing[item.norm] = item
        for norm in norms:
            group = groups[(kind, norm)]
            item = existing.get(norm)
            if item is None:
                item = ReviewItem(kind=kind, norm=norm, count=0, first_at=group.first_at, last_at=group.first_at,
                                  status="open")
                session.add(item)
            item.count += group.count
            item.first_at = min(item.first_at, group.first_at)
            if group.latest["at"] >= item.last_at:
                latest = group.latest
                item.last_at = latest["at"]
                item.text = (latest["text"] or "")[:1000]
                item.language, item.predicted = latest["language"], latest["predicted"]
                item.confidence, item.model_id = latest["confidence"], latest["model_id"]
    session.flush()


def collect(session: Session, batch: int = BATCH) -> int:
    """Adds the turns and "down" ratings indexed since the last call to the review items; returns
    how many occurrences it added. The caller commits (the watermarks move in the same transaction)."""
    added = 0
    while True:
        turns_after, feedback_after = old = _watermarks(session)
        turns_upto = _upto(session, TURNS.c.id, turns_after, batch)
        feedback_upto = _upto(session, MessageFeedback.id, feedback_after, batch)
        if (turns_upto, feedback_upto) == old or not _advance(session, old, (turns_upto, feedback_upto)):
            return added
        groups: Dict[tuple, _Group] = {}
        _new_turns(session, turns_after, turns_upto, groups)
        # Each pair once: a new turn with any rating seen so far or now, an old turn with a new rating.
        _down_pairs(session, turns_after, turns_upto, 0, feedback_upto, groups)
        _down_pairs(session, 0, turns_after, feedback_after, feedback_upto, groups)
        _upsert(session, groups)
        added += sum(group.count for group in groups.values())


# --- the reviewer's side ---------------------------------------------------------------------------

def view(item: ReviewItem) -> Dict[str, Any]:
    def when(value: Optional[dt.datetime]) -> Optional[str]:
        return value.isoformat(timespec="seconds") + "Z" if value else None

    return {"id": item.id, "kind": item.kind, "text": item.text, "language": item.language,
            "predicted": item.predicted, "confidence": item.confidence, "count": item.count,
            "model_id": item.model_id, "first_at": when(item.first_at), "last_at": when(item.last_at),
            "status": item.status, "label": item.label, "note": item.note,
            "reviewed_by": item.reviewed_by, "reviewed_at": when(item.reviewed_at)}


def items(session: Session, status: Optional[str] = "open", kind: Optional[str] = None,
          limit: int = 500) -> List[Dict[str, Any]]:
    """Newest first; status None: all."""
    query = select(ReviewItem).order_by(ReviewItem.last_at.desc(), ReviewItem.id.desc()).limit(limit)
    if status:
        query = query.where(ReviewItem.status == status)
    if kind:
        query = query.where(ReviewItem.kind == kind)
    return [view(item) for item in session.execute(query).scalars()]


def label(session: Session, item_id: int, value: str, note: Optional[str], username: str) -> Optional[Dict]:
    """Sets an item's label (one of training_export.labels(), checked by the caller); None: no such item."""
    item = session.get(ReviewItem, item_id)
    if item is None:
        return None
    item.status, item.label = "labelled", value
    item.note = redact(note.strip(), codes=True)[:MAX_NOTE_CHARS] if note and note.strip() else None
    item.reviewed_by, item.reviewed_at = username, utcnow()
    session.flush()
    return view(item)


def dismiss(session: Session, item_id: int, username: str) -> Optional[Dict]:
    item = session.get(ReviewItem, item_id)
    if item is None:
        return None
    item.status, item.label, item.note = "dismissed", None, None
    item.reviewed_by, item.reviewed_at = username, utcnow()
    session.flush()
    return view(item)


def _training_data():
    """Items whose label is training data: labelled, not "new topic needed"."""
    return and_(ReviewItem.status == "labelled", ReviewItem.label.isnot(None), ReviewItem.label != NEW_TOPIC)


def labelled(session: Session) -> Iterable[ReviewItem]:
    return session.execute(select(ReviewItem).where(_training_data()).order_by(ReviewItem.id)).scalars().all()


# --- retention -------------------------------------------------------------------------------------

def purge(session: Session, cutoff: dt.datetime) -> int:
    """Deletes the items last seen before `cutoff` (naive UTC) but the training data (labelled, not a new
    topic: bot/ops/retention.py says why); returns how many. The caller commits."""
    done = session.execute(delete(ReviewItem).where(ReviewItem.last_at < cutoff, ~_training_data())
                           .execution_options(synchronize_session=False))
    return done.rowcount
