"""Login sessions and the failed-login throttle, both kept in the database so
that several web processes share them.

A session is a random token in an HttpOnly cookie; the database keeps only its
SHA-256, the account, a CSRF token and the expiry (STAFF_SESSION_MINUTES).
The throttle counts failures per username and client address together (and
per address alone, against one address trying many usernames) within a
window: past a few, each further attempt from that address must wait a
delay that doubles with every failure (429 with Retry-After). Nothing is ever
locked for everyone: a username's owner at another address logs in as usual,
whatever an attacker elsewhere has tried.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from dataclasses import dataclass
from typing import Optional, Tuple

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.web.config import (
    ADDRESS_FREE_LOGIN_FAILURES,
    FREE_LOGIN_FAILURES,
    LOGIN_DELAY_CAP_SECONDS,
    LOGIN_FAILURE_WINDOW_SECONDS,
    LOGIN_FIRST_DELAY_SECONDS,
)
from bot.web.staff.accounts import authenticate
from bot.web.staff.models import LoginFailure, StaffSession, StaffUser
from bot.db import utcnow


@dataclass(frozen=True)
class LoggedIn:
    username: str
    csrf_token: str
    expires_at: dt.datetime
    role: str = "agent"
    display_name: Optional[str] = None  # None: the username

    @property
    def shown_name(self) -> str:
        """The name citizens are shown (masked where it is shown)."""
        return self.display_name or self.username


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
    return token, LoggedIn(user.username, row.csrf_token, row.expires_at, user.role, user.display_name)


def log_in(session: Session, username: str, password: str, client_address: str,
           minutes: int) -> Tuple[int, Optional[Tuple[str, LoggedIn]]]:
    """A login attempt through the throttle: (retry_after seconds, None) when
    this address must wait; else (0, (cookie token, login)) or (0, None) for
    a wrong username or password. The caller commits (a failure is counted)."""
    wait = retry_after(session, username, client_address)
    if wait:
        return wait, None
    user = authenticate(session, username, password)
    if user is None:
        record_failure(session, username, client_address)
        return 0, None
    clear_failures(session, username, client_address)
    return 0, start_session(session, user, minutes)


def current(session: Session, token: Optional[str]) -> Optional[LoggedIn]:
    """The login a cookie token stands for, if it exists and has not expired."""
    if not token or len(token) > 200:
        return None
    row = session.execute(
        select(StaffSession, StaffUser.username, StaffUser.role, StaffUser.display_name)
        .join(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.token_hash == _token_hash(token), StaffSession.expires_at > utcnow())
    ).first()
    if row is None:
        return None
    staff_session, username, role, display_name = row
    return LoggedIn(username, staff_session.csrf_token, staff_session.expires_at, role, display_name)


def end_session(session: Session, token: Optional[str]) -> None:
    if token:
        session.execute(delete(StaffSession).where(StaffSession.token_hash == _token_hash(token)))


def _delay(failures: int, free: int) -> float:
    """Seconds to wait after the last of `failures`: none up to `free`, then doubling."""
    if failures < free:
        return 0.0
    return min(float(LOGIN_DELAY_CAP_SECONDS), LOGIN_FIRST_DELAY_SECONDS * 2.0 ** (failures - free))


def retry_after(session: Session, username: str, client_address: str, now: Optional[dt.datetime] = None) -> int:
    """Seconds until this address may try this username again; 0: now."""
    now = now or utcnow()
    since = now - dt.timedelta(seconds=LOGIN_FAILURE_WINDOW_SECONDS)
    wait = 0.0
    for condition, free in (
        ((LoginFailure.username == username) & (LoginFailure.client_address == client_address), FREE_LOGIN_FAILURES),
        (LoginFailure.client_address == client_address, ADDRESS_FREE_LOGIN_FAILURES),
    ):
        count, last = session.execute(
            select(func.count(LoginFailure.id), func.max(LoginFailure.created_at))
            .where(condition, LoginFailure.created_at > since)
        ).one()
        if count and last is not None:
            wait = max(wait, (last - now).total_seconds() + _delay(count, free))
    return math.ceil(wait) if wait > 0 else 0


def record_failure(session: Session, username: str, client_address: str, now: Optional[dt.datetime] = None) -> None:
    session.add(LoginFailure(username=username, client_address=client_address, created_at=now or utcnow()))


def clear_failures(session: Session, username: str, client_address: str) -> None:
    """After a good login: this address's failures for this username (an attacker's elsewhere stay)."""
    session.execute(delete(LoginFailure).where(LoginFailure.username == username,
                                               LoginFailure.client_address == client_address))
