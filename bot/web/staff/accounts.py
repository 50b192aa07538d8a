"""Staff accounts: creating or resetting one, checking a login."""
from __future__ import annotations

import re
from typing import Optional

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.web.config import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS
from bot.web.staff.models import StaffSession, StaffUser
from bot.web.staff.passwords import DUMMY_HASH, hash_password, verify_password
from bot.web.staff.store import utcnow

USERNAME = re.compile(r"[a-z0-9][a-z0-9_.@-]{0,63}")


class AccountError(ValueError):
    """The username or password is not acceptable; the message says why."""


def normalize_username(username: str) -> str:
    return (username or "").strip().lower()[:64]


def check_new_account(username: str, password: str) -> str:
    """The normalized username, or AccountError."""
    name = normalize_username(username)
    if not USERNAME.fullmatch(name):
        raise AccountError("a username has 1 to 64 characters: letters, digits and _ . @ - (starting with a letter or digit)")
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError(f"the password must have at most {MAX_PASSWORD_CHARS} characters")
    return name


def set_account(session: Session, username: str, password: str) -> bool:
    """Creates the account, or resets its password (ending its sessions).
    True if it was created. The caller commits."""
    name = check_new_account(username, password)
    now = utcnow()
    user = session.execute(select(StaffUser).where(StaffUser.username == name)).scalar_one_or_none()
    if user is None:
        session.add(StaffUser(username=name, password_hash=hash_password(password), created_at=now,
                              password_changed_at=now))
        session.flush()
        return True
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    return False


def authenticate(session: Session, username: str, password: str) -> Optional[StaffUser]:
    """The account if the password is right; None otherwise (same cost either way)."""
    user = session.execute(
        select(StaffUser).where(StaffUser.username == normalize_username(username))
    ).scalar_one_or_none()
    if user is None or len(password or "") > MAX_PASSWORD_CHARS:
        verify_password(password[:MAX_PASSWORD_CHARS] if password else "", DUMMY_HASH)
        return None
    return user if verify_password(password, user.password_hash) else None
