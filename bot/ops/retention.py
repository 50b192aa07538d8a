"""Retention: conversations older than RETENTION_DAYS are deleted (`python -m
bot purge`; the launcher runs it once a day).

A conversation's age is that of its last event: every event of a
conversation whose latest event is older than the cut-off goes, so nothing
newer is touched and no conversation is left half. Then the card backend
deletes the hand-over tickets of the same age (POST /v1/retention/purge),
whose sealed conversation ids and call-back phones go with them. Rasa
processes holding such a conversation in their session cache read it again
(the cache's key, count and highest id of the stored events, changes).
"""
from __future__ import annotations

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
    log.info("retention: %d conversations (%d events) and %s hand-over tickets older than %d days deleted",
             stored["conversations"], stored["events"], "?" if tickets is None else tickets, days)
    return Purged(stored["conversations"], stored["events"], tickets)


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
