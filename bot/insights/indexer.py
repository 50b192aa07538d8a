"""The indexer: the tracker store's new events (Rasa's `events` table at TRACKER_DB_URL, already redacted)
become the facts tables (bot/insights/facts.py) on the staff database.

It reads the events after `insight_progress.last_event_id` in id order, a batch at a time, and writes
each batch's facts and the new watermark in one transaction. One web process indexes at a time: it
claims a lease by a conditional UPDATE of the progress row, and every batch's watermark moves only
from the value it read (so even two processes that both believe they hold the lease never index the
same events twice). Review items are collected right after (bot/insights/review.py `collect`), under
the same lease.

On PostgreSQL a smaller id can become visible after a larger one (ids are taken at INSERT, rows seen
at COMMIT), so the indexer goes only as far as the highest id it saw SETTLE_SECONDS ago; a turn's save
commits within milliseconds of its INSERTs. SQLite has one writer at a time: no such wait.

In the web process `IndexerJob` runs it every INDEX_SECONDS in a thread of its own, and before a
figures or review request for at most REQUEST_BATCHES batches (never waiting behind a run that is
under way: the request answers with what is indexed).
"""
from __future__ import annotations

import asyncio
import collections
import datetime as dt
import json
import logging
import os
import secrets
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Deque, Dict, List, Optional, Tuple

from sqlalchemy import (
    Column, Float, Integer, MetaData, String, Table, Text, bindparam, create_engine, func, select, update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from bot.core.message_ids import stamp
from bot.core.opaque import Opaque, conversation_key
from bot.db import Database, utcnow
from bot.insights import review
from bot.insights.facts import (
    FELL_BACK, TEXT_CHARS, InsightConversation, InsightProgress, InsightTurn, channel_name, classify, group_key,
    local_day,
)
from bot.text import DEFAULT_LANGUAGE, detect_language
from bot.web.ratings import MessageFeedback

log = logging.getLogger("bot.insights.indexer")

INDEX_SECONDS = 30.0
BATCH = 5000
REQUEST_BATCHES = 3
LEASE_SECONDS = 120
SETTLE_SECONDS = 5.0
PROGRESS = "tracker"  # insight_progress rows: the tracker's events, the ratings copied to their turns
FEEDBACK = "feedback"
STAFF = "staff"  # bot messages a member of staff wrote (metadata from: staff)

# Rasa's SQLTrackerStore table, the columns we read (the web process does not import Rasa).
EVENTS = Table("events", MetaData(), Column("id", Integer, primary_key=True), Column("sender_id", String(255)),
               Column("type_name", String(255)), Column("timestamp", Float), Column("data", Text))


def _utc(timestamp: Any) -> dt.datetime:
    seconds = timestamp if isinstance(timestamp, (int, float)) and not isinstance(timestamp, bool) else time.time()
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).replace(tzinfo=None)


def tracker_engine(url: str) -> Optional[Engine]:
    """A read engine of the tracker store; None for an SQLite file that does not exist yet (Rasa makes it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or not os.path.exists(parsed.database):
            return None
        return create_engine(url, future=True, hide_parameters=True,
                             connect_args={"check_same_thread": False, "timeout": 30})
    return create_engine(url, future=True, hide_parameters=True, pool_pre_ping=True, pool_size=2)


class _Facts:
    """One batch's facts: the conversations' latest sessions and open turns, loaded once, changed in place."""

    def __init__(self, session: Session, opaque: Opaque, senders: List[str]) -> None:
        self.session = session
        self.keys = {sender: conversation_key(opaque, sender) for sender in senders}
        self.latest: Dict[str, InsightConversation] = {}
        rows = session.execute(select(InsightConversation)
                               .where(InsightConversation.conversation.in_(set(self.keys.values())))).scalars()
        for row in rows:
            if row.conversation not in self.latest or row.session_id > self.latest[row.conversation].session_id:
                self.latest[row.conversation] = row
        self.answered: List[InsightTurn] = []  # the turns whose answer this batch found
        open_ids = [c.open_turn_event_id for c in self.latest.values() if c.open_turn_event_id]
        self.turns: Dict[int, InsightTurn] = {
            t.event_id: t for t in session.execute(select(InsightTurn).where(InsightTurn.event_id.in_(open_ids)))
            .scalars()} if open_ids else {}

    def start_session(self, sender: str, session_id: int, at: dt.datetime) -> InsightConversation:
        key = self.keys[sender]
        row = InsightConversation(conversation=key, session_id=session_id, channel=None, started_at=at,
                                  day=local_day(at), last_at=at, messages=0, turns=0, fallbacks=0)
        self.session.add(row)
        self.latest[key] = row
        return row

    def conversation(self, sender: str, at: dt.datetime) -> InsightConversation:
        """The sender's current session (one with id 0 when no session start was ever seen)."""
        return self.latest.get(self.keys[sender]) or self.start_session(sender, 0, at)

    def user(self, event_id: int, sender: str, at: dt.datetime, data: Dict[str, Any]) -> None:
        conversation = self.conversation(sender, at)
        metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        intent = ((data.get("parse_data") or {}).get("intent") or {}).get("name") \
            if isinstance(data.get("parse_data"), dict) else None
        if metadata.get("is_external") is True:
            # A hand-over's status change, triggered from outside (Rasa's trigger_intent): nobody typed it.
            # A typed "/EXTERNAL_handoff_claimed" is a citizen's message like any other, and claims nothing.
            if intent == "EXTERNAL_handoff_claimed" and conversation.handoff_at and not conversation.claimed_at:
                conversation.claimed_at = at
            conversation.open_turn_event_id = None
            return
        text = data.get("text") if isinstance(data.get("text"), str) else ""
        channel = channel_name(data.get("input_channel"))
        model_id = metadata.get("model_id")
        turn = InsightTurn(
            event_id=event_id, conversation=conversation.conversation, session_id=conversation.session_id, at=at,
            day=local_day(at), channel=channel, language=detect_language(text) or DEFAULT_LANGUAGE,
            text=text[:TEXT_CHARS], norm=group_key(text), handoff=False,
            model_id=model_id[:64] if isinstance(model_id, str) else None, **classify(data.get("parse_data")))
        self.session.add(turn)
        self.turns[event_id] = turn
        conversation.channel = conversation.channel or channel
        conversation.turns += 1
        conversation.messages += 1
        conversation.fallbacks += turn.outcome == FELL_BACK
        conversation.last_at = at
        conversation.open_turn_event_id = event_id

    def rated(self) -> None:
        """The up/down already given to the answers of this batch's turns (a rating can beat the indexer)."""
        answered = {(t.conversation, t.answer_id): t for t in self.answered}
        if not answered:
            return
        for conversation, message_id, rating, created_at in self.session.execute(
                select(MessageFeedback.conversation, MessageFeedback.message_id, MessageFeedback.rating,
                       MessageFeedback.created_at)
                .where(MessageFeedback.conversation.in_({c for c, _ in answered}))):
            turn = answered.get((conversation, message_id))
            if turn is not None:
                turn.feedback, turn.feedback_day = rating, local_day(created_at)

    def bot(self, sender: str, at: dt.datetime, data: Dict[str, Any]) -> None:
        conversation = self.conversation(sender, at)
        payload = data.get("data") if isinstance(data.get("data"), dict) else {}
        metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        shown = bool(data.get("text")) or bool(payload.get("buttons"))
        if shown:
            conversation.messages += 1
            conversation.last_at = at
        turn = self.turns.get(conversation.open_turn_event_id) if conversation.open_turn_event_id else None
        if turn is None:
            return
        if shown and turn.answer_id is None and metadata.get("from") != STAFF:
            turn.answer_id = stamp(data.get("timestamp"), "bot", {}).get("id")
            self.answered.append(turn)
        custom = payload.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("handoff"), dict):
            turn.handoff = True
            if conversation.handoff_at is None:
                conversation.handoff_at = at
                if custom["handoff"].get("status") == "claimed":  # somebody took it at once
                    conversation.claimed_at = at


def _apply(facts: _Facts, rows: List[Any]) -> None:
    for row in rows:
        try:
            data = json.loads(row.data) if row.data else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        at = _utc(row.timestamp if row.timestamp is not None else data.get("timestamp"))
        if row.type_name == "session_started":
            facts.start_session(row.sender_id, row.id, at)
        elif row.type_name == "user":
            facts.user(row.id, row.sender_id, at, data)
        elif row.type_name == "bot":
            facts.bot(row.sender_id, at, data)


class Indexer:
    """`run(max_batches)` indexes what is new (if this process gets the lease); the events indexed."""

    def __init__(self, tracker_url: str, staff_db: Database, opaque: Opaque, batch: int = BATCH,
                 owner: Optional[str] = None) -> None:
        self.tracker_url, self.staff_db, self.opaque, self.batch = tracker_url, staff_db, opaque, batch
        self.owner = owner or f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._tracker: Optional[Engine] = None
        self._seen: Deque[Tuple[float, int]] = collections.deque()  # (monotonic time, highest id), PostgreSQL

    def tracker(self) -> Optional[Engine]:
        if self._tracker is None:
            self._tracker = tracker_engine(self.tracker_url)
        return self._tracker

    def close(self) -> None:
        if self._tracker is not None:
            self._tracker.dispose()

    # --- the lease -------------------------------------------------------------------------------

    def _claim(self) -> bool:
        now = utcnow()
        with self.staff_db.write() as session:
            for name in (PROGRESS, FEEDBACK):
                if session.get(InsightProgress, name) is None:
                    session.add(InsightProgress(name=name, last_event_id=0))
                    try:
                        session.commit()
                    except IntegrityError:
                        session.rollback()
            claimed = session.execute(
                update(InsightProgress).where(InsightProgress.name == PROGRESS)
                .where((InsightProgress.lease_owner.is_(None)) | (InsightProgress.lease_owner == self.owner)
                       | (InsightProgress.lease_until < now))
                .values(lease_owner=self.owner, lease_until=now + dt.timedelta(seconds=LEASE_SECONDS))).rowcount
            session.commit()
        return claimed == 1

    def _release(self) -> None:
        with self.staff_db.write() as session:
            session.execute(update(InsightProgress).where(InsightProgress.name == PROGRESS)
                            .where(InsightProgress.lease_owner == self.owner)
                            .values(lease_owner=None, lease_until=None))
            session.commit()

    # --- indexing --------------------------------------------------------------------------------

    def _settled_upto(self, engine: Engine) -> Optional[int]:
        """The highest id safe to read (None: all; SQLite)."""
        if engine.dialect.name == "sqlite":
            return None
        with engine.connect() as connection:
            highest = connection.execute(select(func.max(EVENTS.c.id))).scalar() or 0
        now = time.monotonic()
        self._seen.append((now, highest))
        settled = [seen for at, seen in self._seen if at <= now - SETTLE_SECONDS]
        while len(self._seen) > 1 and self._seen[1][0] <= now - SETTLE_SECONDS:
            self._seen.popleft()  # keep the newest settled one and those after it
        return max(settled) if settled else 0

    def _batch(self, engine: Engine, upto: Optional[int]) -> Optional[int]:
        """One batch: the number of events indexed, None when nothing was new or the lease was lost."""
        with self.staff_db.read() as session:
            last = session.execute(select(InsightProgress.last_event_id)
                                   .where(InsightProgress.name == PROGRESS)).scalar() or 0
        query = select(EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.data) \
            .where(EVENTS.c.id > last).order_by(EVENTS.c.id).limit(self.batch)
        if upto is not None:
            query = query.where(EVENTS.c.id <= upto)
        with engine.connect() as connection:
            rows = connection.execute(query).all()
        if not rows:
            return None
        now = utcnow()
        with self.staff_db.write() as session:
            moved = session.execute(
                update(InsightProgress).where(InsightProgress.name == PROGRESS)
                .where(InsightProgress.lease_owner == self.owner).where(InsightProgress.last_event_id == last)
                .values(last_event_id=rows[-1].id, lease_until=now + dt.timedelta(seconds=LEASE_SECONDS))).rowcount
            if moved != 1:
                session.rollback()
                log.warning("insights: the indexing lease was lost")
                return None
            facts = _Facts(session, self.opaque, sorted({r.sender_id for r in rows}))
            _apply(facts, rows)
            facts.rated()
            session.commit()
        return len(rows)

    def _copy_feedback(self) -> int:
        """Copies the up/down ratings given since the last time to their turns (those indexed already;
        a turn indexed later finds its rating itself): the number of ratings read."""
        copied = 0
        while True:
            now = utcnow()
            with self.staff_db.write() as session:
                last = session.execute(select(InsightProgress.last_event_id)
                                       .where(InsightProgress.name == FEEDBACK)).scalar() or 0
                # Rows a few seconds old only: on PostgreSQL a smaller id may still be committing.
                rows = session.execute(
                    select(MessageFeedback.id, MessageFeedback.conversation, MessageFeedback.message_id,
                           MessageFeedback.rating, MessageFeedback.created_at)
                    .where(MessageFeedback.id > last,
                           MessageFeedback.created_at <= now - dt.timedelta(seconds=SETTLE_SECONDS))
                    .order_by(MessageFeedback.id).limit(self.batch)).all()
                if not rows:
                    return copied
                moved = session.execute(
                    update(InsightProgress).where(InsightProgress.name == FEEDBACK)
                    .where(InsightProgress.last_event_id == last).values(last_event_id=rows[-1].id)).rowcount
                if moved != 1:
                    session.rollback()
                    return copied
                turns = InsightTurn.__table__
                session.execute(
                    update(turns).where(turns.c.conversation == bindparam("c"), turns.c.answer_id == bindparam("m"))
                    .values(feedback=bindparam("r"), feedback_day=bindparam("d")),
                    [{"c": r.conversation, "m": r.message_id, "r": r.rating, "d": local_day(r.created_at)}
                     for r in rows])
                session.commit()
            copied += len(rows)

    def run(self, max_batches: Optional[int] = None) -> int:
        engine = self.tracker()
        if engine is None or not self._claim():
            return 0
        indexed = 0
        try:
            try:
                upto = self._settled_upto(engine)
                batches = 0
                while max_batches is None or batches < max_batches:
                    done = self._batch(engine, upto)
                    if not done:
                        break
                    indexed += done
                    batches += 1
            except SQLAlchemyError as error:
                if indexed == 0 and "events" in str(error).lower() and "no such table" in str(error).lower():
                    return 0  # Rasa has not made its table yet
                raise
            self._copy_feedback()
            with self.staff_db.write() as session:  # the review inbox, from the turns just indexed
                review.collect(session)
                session.commit()
        finally:
            self._release()
        if indexed:
            log.info("insights: %d tracker events indexed", indexed)
        return indexed


def index(tracker_url: str, staff_db: Database, opaque: Opaque, batch: int = BATCH) -> int:
    """Indexes every new event (if no other process holds the lease): the number indexed."""
    indexer = Indexer(tracker_url, staff_db, opaque, batch)
    try:
        return indexer.run()
    finally:
        indexer.close()


class IndexerJob:
    """The indexer in the web process: `run(INDEX_SECONDS)` as a background task, `refresh()` before
    answering a figures or review request. Its own thread: indexing never holds the staff API's."""

    def __init__(self, tracker_url: str, staff_db: Database, opaque: Opaque) -> None:
        self.indexer = Indexer(tracker_url, staff_db, opaque)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="insights")
        self._lock: Optional[asyncio.Lock] = None
        self._failing = False

    async def _run(self, max_batches: Optional[int]) -> int:
        if self._lock is None:
            self._lock = asyncio.Lock()
        if self._lock.locked() and max_batches is not None:
            return 0  # a run is under way: answer with what is indexed
        async with self._lock:
            try:
                indexed = await asyncio.get_running_loop().run_in_executor(self._executor, self.indexer.run,
                                                                           max_batches)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # never let the job die, never fail a request for it
                if not self._failing:
                    log.error("insights: indexing failed: %s: %s", type(error).__name__, str(error)[:200])
                self._failing = True
                return 0
            self._failing = False
            return indexed

    async def refresh(self) -> int:
        return await self._run(REQUEST_BATCHES)

    async def run(self, every_seconds: float = INDEX_SECONDS) -> None:
        while True:
            await self._run(None)
            await asyncio.sleep(every_seconds)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.indexer.close()
