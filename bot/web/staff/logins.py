"""Login sessions and the failed-login throttle, both kept in the database so
that several web processes share them.

A session is a random token in an HttpOnly cookie; the database keeps only its
SHA-256, the account, a CSRF token and the expiry (STAFF_SESSION_MINUTES).
The throttle counts failures per username and per client address within a
window; once either reaches the limit, logins for it are refused (429) until
its oldest counted failure leaves the window, even with the right password.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from dataclasses import dataclass
from typing import Optional, Tuple

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.web.config import LOGIN_FAILURE_WINDOW_SECONDS, MAX_LOGIN_FAILURES
from bot.web.staff.models import LoginFailure, StaffSession, StaffUser
from bot.web.staff.store import utcnow


@dataclass(frozen=True)
class LoggedIn:
    username: str
    csrf_token: str
    expires_at: dt.datetime


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def start_session(session: Session, user: StaffUser, minutes: int) -> Tuple[str, LoggedIn]:
    """(cookie token, the login). The caller commits."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = StaffSession(token_hash=_token_hash(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                       created_at=now, expires_at=now + dt.timedelta(minutes=minutes))
    session.add(row)
    # Housekeeping: expired sessions and failures past the window go.
    session.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
    session.execute(delete(LoginFailure).where(
        LoginFailure.created_at <= now - dt.timedelta(seconds=LOGIN_FAILURE_WINDOW_SECONDS)))
    return token, LoggedIn(user.username, row.csrf_token, row.expires_at)


def current(session: Session, token: Optional[str]) -> Optional[LoggedIn]:
    """The login a cookie token stands for, if it exists and has not expired."""
    if not token or len(token) > 200:
        return None
    row = session.execute(
        select(StaffSession, StaffUser.username)
        .join(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.token_hash == _token_hash(token), StaffSession.expires_at > utcnow())
    ).first()
    if row is None:
        return None
    staff_session, username = row
    return LoggedIn(username, staff_session.csrf_token, staff_session.expires_at)


def end_session(session: Session, token: Optional[str]) -> None:
    if token:
        session.execute(delete(StaffSession).where(StaffSession.token_hash == _token_hash(token)))


def retry_after(session: Session, username: str, client_address: str) -> int:
    """Seconds until a login for this username / address may be tried; 0: now."""
    since = utcnow() - dt.timedelta(seconds=LOGIN_FAILURE_WINDOW_SECONDS)
    wait = 0.0
    for column, value in ((LoginFailure.username, username), (LoginFailure.client_address, client_address)):
        times = session.execute(
            select(LoginFailure.created_at).where(column == value, LoginFailure.created_at > since)
            .order_by(LoginFailure.created_at.desc()).limit(MAX_LOGIN_FAILURES)
        ).scalars().all()
        if len(times) >= MAX_LOGIN_FAILURES:
            # The oldest of the last MAX failures must leave the window first.
            wait = max(wait, (times[-1] - since).total_seconds())
    return math.ceil(wait) if wait > 0 else 0


def record_failure(session: Session, username: str, client_address: str) -> None:
    session.add(LoginFailure(username=username, client_address=client_address, created_at=utcnow()))


def clear_failures(session: Session, username: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))

