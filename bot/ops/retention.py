"""Retention: conversations older than RETENTION_DAYS are deleted (`python -m
bot purge`; the launcher runs it once a day).

A conversation's age is that of its last event: every event of a
conversation whose latest event is older than the cut-off goes, so nothing
newer is touched and no conversation is left half. Then the card backend
deletes the hand-over tickets of the same age (POST /v1/retention/purge),
whose sealed conversation ids and call-back phones go with them, and the
web process's staff database the figures' facts, review items and ratings
of the same age (purge_staff_store). Rasa
processes holding such a conversation in their session cache read it again
(the cache's key, count and highest id of the stored events, changes).
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

import httpx
import sqlalchemy as sa

from bot.core.service_auth import bearer_header

log = logging.getLogger("bot.retention")

DAY_SECONDS = 24 * 3600
EVENTS = sa.table("events", sa.column("sender_id"), sa.column("timestamp"))  # Rasa's SQLTrackerStore table


@dataclass
class Purged:
    conversations: int
    events: int
    handoff_tickets: Optional[int]  # None: the backend could not be reached
    staff_store: Dict[str, int]  # what purge_staff_store deleted


def purge_tracker_store(url: str, older_than_days: int, now: Optional[float] = None) -> Dict[str, int]:
    """Deletes every event of each conversation whose latest event is older than the cut-off."""
    cutoff = (now or time.time()) - older_than_days * DAY_SECONDS
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            if not sa.inspect(connection).has_table("events"):
                return {"conversations": 0, "events": 0}  # no conversation stored yet
            old = sa.select(EVENTS.c.sender_id).group_by(EVENTS.c.sender_id) \
                .having(sa.func.max(EVENTS.c.timestamp) < cutoff)
            conversations = len(connection.execute(old).all())
            events = connection.execute(sa.delete(EVENTS).where(EVENTS.c.sender_id.in_(old))).rowcount
        return {"conversations": conversations, "events": events}
    finally:
        engine.dispose()


def _delete_before(session, table, cutoff: dt.datetime) -> int:
    return session.execute(sa.delete(table).where(table.created_at < cutoff)
                           .execution_options(synchronize_session=False)).rowcount or 0


def purge_staff_store(url: str, older_than_days: int, now: Optional[dt.datetime] = None) -> Dict[str, int]:
    """The web process's share (STAFF_DB_URL): the figures' facts of sessions
    whose last message is older than the cut-off, the review items last seen
    before it, the ratings given before it. A review item a reviewer labelled
    stays: it no longer stands for a conversation but is training data (its
    redacted text and the label; bot/insights/training_export.py), and deleting
    it would silently take it out of the next model."""
    from bot.insights import facts, review
    from bot.web.ratings import ConversationRating, MessageFeedback
    from bot.db import utcnow
    from bot.web.staff.store import open_store

    cutoff = (now or utcnow()) - dt.timedelta(days=older_than_days)
    db = open_store(url)
    try:
        with db.write() as session:
            done = {"sessions": facts.purge(session, cutoff),
                    "review_items": review.purge(session, cutoff),
                    "ratings": sum(_delete_before(session, table, cutoff)
                                   for table in (MessageFeedback, ConversationRating))}
            session.commit()
        return done
    finally:
        db.engine.dispose()


def purge_backend(backend_url: str, token: str, older_than_days: int) -> Optional[int]:
    try:
        response = httpx.post(f"{backend_url.rstrip('/')}/v1/retention/purge", json={"older_than_days": older_than_days},
                              headers=bearer_header(token), timeout=30)
    except httpx.HTTPError as error:
        log.error("retention: the card backend could not be reached: %s", type(error).__name__)
        return None
    if response.status_code != 200:
        log.error("retention: the card backend answered %s", response.status_code)
        return None
    return int(response.json()["handoff_tickets"])


def _backend_token(env: Dict[str, str]) -> str:
    """BACKEND_SERVICE_TOKEN; empty: the one a development backend keeps in var/secrets/."""
    if env.get("BACKEND_SERVICE_TOKEN"):
        return env["BACKEND_SERVICE_TOKEN"]
    from bot.backend.config import SERVICE_TOKEN_FILE

    try:
        return Path(SERVICE_TOKEN_FILE).read_text().strip()
    except OSError:
        return ""


def purge(env: Dict[str, str]) -> Purged:
    days = int(env["RETENTION_DAYS"])
    if days < 1:
        raise ValueError("RETENTION_DAYS must be at least 1")
    stored = purge_tracker_store(env["TRACKER_DB_URL"], days)
    tickets = purge_backend(env["BACKEND_URL"], _backend_token(env), days)
    staff = purge_staff_store(env["STAFF_DB_URL"], days)
    log.info("retention: %d conversations (%d events), %s hand-over tickets, %d review items, %d ratings and the "
             "figures of %d sessions older than %d days deleted", stored["conversations"], stored["events"],
             "?" if tickets is None else tickets, staff["review_items"], staff["ratings"], staff["sessions"], days)
    return Purged(stored["conversations"], stored["events"], tickets, staff)


class DailyPurge:
    """The launcher's daily `python -m bot purge` (a process of its own, its
    output in LOG_DIR/retention.log): first a minute after the start, then
    every 24 hours, until stop()."""

    FIRST_DELAY_SECONDS = 60

    def __init__(self, env: Dict[str, str], log_path: Path) -> None:
        import threading

        self.env, self.log_path = env, log_path
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="daily-purge", daemon=True)

    def start(self) -> "DailyPurge":
        self._thread.start()
        return self

    def _loop(self) -> None:
        import subprocess
        import sys

        delay = self.FIRST_DELAY_SECONDS
        while not self._stop.wait(delay):
            with open(self.log_path, "ab") as out:
                subprocess.call([sys.executable, "-m", "bot", "purge"], env=self.env, stdout=out, stderr=out)
            delay = DAY_SECONDS

    def stop(self) -> None:
        self._stop.set()
