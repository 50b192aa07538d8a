"""Staff accounts: creating or resetting one, listing and changing them (the
admin's accounts page), checking a login."""
from __future__ import annotations

import re
from typing import Dict, List, Optional

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.web.config import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS
from bot.web.staff.models import StaffSession, StaffUser
from bot.web.staff.passwords import DUMMY_HASH, hash_password, verify_password
from bot.web.staff.roles import ADMIN, DEFAULT_ROLE, ROLES
from bot.db import utcnow

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


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"a role is one of {', '.join(ROLES)}")
    return role


def check_display_name(display_name: Optional[str]) -> Optional[str]:
    """None (show the username) or a name of 1 to 64 printable characters."""
    if display_name is None or not display_name.strip():
        return None
    name = " ".join(display_name.split())
    if len(name) > 64 or not name.isprintable():
        raise AccountError("a display name has at most 64 printable characters")
    return name


def set_account(session: Session, username: str, password: str, role: Optional[str] = None,
                display_name: Optional[str] = None) -> bool:
    """Creates the account (role: agent unless given), or resets its password
    (ending its sessions) and, when given, its role and display name. True if
    it was created. The caller commits."""
    name = check_new_account(username, password)
    role = check_role(role) if role is not None else None
    display_name = check_display_name(display_name)
    now = utcnow()
    user = session.execute(select(StaffUser).where(StaffUser.username == name)).scalar_one_or_none()
    if user is None:
        session.add(StaffUser(username=name, password_hash=hash_password(password), created_at=now,
                              password_changed_at=now, role=role or DEFAULT_ROLE, display_name=display_name))
        session.flush()
        return True
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    if role is not None:
        user.role = role
    if display_name is not None:
        user.display_name = display_name
    session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    return False


def account_view(user: StaffUser) -> Dict[str, object]:
    return {"username": user.username, "role": user.role, "display_name": user.display_name,
            "created_at": user.created_at.isoformat(timespec="seconds") + "Z"}


def list_accounts(session: Session) -> List[Dict[str, object]]:
    return [account_view(u) for u in session.execute(select(StaffUser).order_by(StaffUser.username)).scalars()]


def change_account(session: Session, username: str, role: Optional[str] = None,
                   display_name: Optional[str] = None) -> Optional[Dict[str, object]]:
    """The admin page's change of a role or display name; None: no such
    account. The last admin cannot stop being one (nobody could manage
    accounts any more). A changed role ends the account's sessions, so the
    new role holds from the next request. The caller commits."""
    user = session.execute(select(StaffUser).where(StaffUser.username == normalize_username(username))
                           ).scalar_one_or_none()
    if user is None:
        return None
    if display_name is not None:
        user.display_name = check_display_name(display_name)
    if role is not None and check_role(role) != user.role:
        if user.role == ADMIN:
            admins = session.execute(select(func.count(StaffUser.id)).where(StaffUser.role == ADMIN)).scalar_one()
            if admins <= 1:
                raise AccountError("this is the last admin: make another account an admin first")
        user.role = role
        session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    return account_view(user)


def delete_account(session: Session, username: str) -> bool:
    """False: no such account. Refused for the last admin. The caller commits."""
    user = session.execute(select(StaffUser).where(StaffUser.username == normalize_username(username))
                           ).scalar_one_or_none()
    if user is None:
        return False
    if user.role == ADMIN and session.execute(
            select(func.count(StaffUser.id)).where(StaffUser.role == ADMIN)).scalar_one() <= 1:
        raise AccountError("this is the last admin: make another account an admin first")
    session.delete(user)
    return True


def authenticate(session: Session, username: str, password: str) -> Optional[StaffUser]:
    """The account if the password is right; None otherwise (same cost either way)."""
    user = session.execute(
        select(StaffUser).where(StaffUser.username == normalize_username(username))
    ).scalar_one_or_none()
    if user is None or len(password or "") > MAX_PASSWORD_CHARS:
        verify_password(password[:MAX_PASSWORD_CHARS] if password else "", DUMMY_HASH)
        return None
    return user if verify_password(password, user.password_hash) else None
