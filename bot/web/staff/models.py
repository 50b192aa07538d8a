"""The staff tables (SQLAlchemy 1.4 declarative, used with the 2.0-style API).

Passwords are stored only as scrypt hashes; session tokens only as SHA-256
hashes (a copy of the database lets no one log in); failed logins keep the
username and client address for the throttle, never the password tried.
"""
from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, MetaData, String
from sqlalchemy.orm import declarative_base

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
Base = declarative_base(metadata=MetaData(naming_convention=NAMING))


class StaffUser(Base):
    __tablename__ = "staff_users"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)
    created_at = Column(DateTime, nullable=False)
    password_changed_at = Column(DateTime, nullable=False)
    # bot/web/staff/roles.py; a column added after the first release: store.py adds it to older databases
    role = Column(String(16), nullable=False, default="agent", server_default="agent")
    # What citizens are shown when this member of staff joins a chat, masked (王** / a**); NULL: the username
    display_name = Column(String(64), nullable=True)


class StaffSession(Base):
    __tablename__ = "staff_sessions"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    user_id = Column(Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False, index=True)


class LoginFailure(Base):
    __tablename__ = "staff_login_failures"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, index=True)
    client_address = Column(String(64), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False, index=True)
