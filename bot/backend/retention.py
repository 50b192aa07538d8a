"""Retention: hand-over tickets older than RETENTION_DAYS go, with their
sealed conversation ids and call-back phones (`python -m bot purge` calls
POST /v1/retention/purge after purging the tracker store: bot/ops/retention.py).

A ticket's age is that of its last change (closed_at, else claimed_at, else
created_at). The audit log stays: it is append-only and holds no personal
data in clear (masked subjects, ticket numbers).
"""
from __future__ import annotations

import datetime as dt
from typing import Dict, Optional

from sqlalchemy import delete, func
from sqlalchemy.orm import Session

from bot.backend.models import HandoffTicket
from bot.backend.service import audit, utcnow

SYSTEM_CHANNEL = "system"


def purge(session: Session, older_than_days: int, now: Optional[dt.datetime] = None) -> Dict[str, int]:
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=older_than_days)
    last_change = func.coalesce(HandoffTicket.closed_at, HandoffTicket.claimed_at, HandoffTicket.created_at)
    deleted = session.execute(
        delete(HandoffTicket).where(last_change < cutoff).execution_options(synchronize_session=False)
    ).rowcount
    if deleted:
        audit(session, "retention_purge", SYSTEM_CHANNEL, "-", now, handoff_tickets=deleted,
              older_than_days=older_than_days)
    return {"handoff_tickets": deleted}
