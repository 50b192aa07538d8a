"""The backend's tables (SQLAlchemy 1.4 declarative, used with the 2.0-style API).

Personal data: a holder's ID number is stored only as an HMAC-SHA256
(`id_number_hash`, keyed with BACKEND_ID_HASH_KEY) and masked; the phone on
file is stored (the SMS gateway needs it) and shown only masked. Codes and
tokens are stored as hashes. The audit log is append-only (the migration adds
triggers that refuse UPDATE and DELETE on it).
"""
from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import declarative_base, relationship

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
Base = declarative_base(metadata=MetaData(naming_convention=NAMING))

CARD_STATUSES = ("in_production", "ready_for_pickup", "issued_inactive", "active", "reported_lost", "cancelled")
APPLICATION_STATUSES = ("submitted", "in_production", "ready_for_pickup", "collected", "rejected")
TICKET_STATUSES = ("waiting", "claimed", "closed")
TICKET_MODES = ("live", "callback")


def _one_of(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Holder(Base):
    __tablename__ = "holders"
    id = Column(Integer, primary_key=True)
    name = Column(String(100), nullable=False)
    id_number_hash = Column(String(64), nullable=False, unique=True)
    id_number_masked = Column(String(18), nullable=False)
    phone = Column(String(20), nullable=False)
    phone_masked = Column(String(20), nullable=False)
    wrong_codes = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False)

    cards = relationship("Card", back_populates="holder", foreign_keys="Card.holder_id")


class Card(Base):
    __tablename__ = "cards"
    __table_args__ = (CheckConstraint(_one_of("status", CARD_STATUSES), name="status"),)
    id = Column(Integer, primary_key=True)
    public_id = Column(String(40), nullable=False, unique=True)
    holder_id = Column(Integer, ForeignKey("holders.id"), nullable=False, index=True)
    card_number = Column(String(20), nullable=False, unique=True)
    status = Column(String(20), nullable=False)
    social_security_active = Column(Boolean, nullable=False, default=False)
    financial_active = Column(Boolean, nullable=False, default=False)
    issued_on = Column(Date, nullable=True)
    expires_on = Column(Date, nullable=True)
    issuing_bank = Column(String(100), nullable=False)
    pickup_location = Column(String(200), nullable=True)
    replaces_card_id = Column(Integer, ForeignKey("cards.id"), nullable=True)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)

    holder = relationship("Holder", back_populates="cards", foreign_keys=[holder_id])


class ReplacementApplication(Base):
    __tablename__ = "replacement_applications"
    __table_args__ = (CheckConstraint(_one_of("status", APPLICATION_STATUSES), name="status"),)
    id = Column(Integer, primary_key=True)
    public_id = Column(String(40), nullable=False, unique=True)
    holder_id = Column(Integer, ForeignKey("holders.id"), nullable=False, index=True)
    old_card_id = Column(Integer, ForeignKey("cards.id"), nullable=False)
    new_card_id = Column(Integer, ForeignKey("cards.id"), nullable=True)
    status = Column(String(20), nullable=False)
    submitted_at = Column(DateTime, nullable=False)
    pickup_location = Column(String(200), nullable=True)
    updated_at = Column(DateTime, nullable=False)

    old_card = relationship("Card", foreign_keys=[old_card_id])
    new_card = relationship("Card", foreign_keys=[new_card_id])
    events = relationship("ApplicationEvent", order_by="ApplicationEvent.id", back_populates="application")


class ApplicationEvent(Base):
    __tablename__ = "application_events"
    id = Column(Integer, primary_key=True)
    application_id = Column(Integer, ForeignKey("replacement_applications.id"), nullable=False, index=True)
    status = Column(String(20), nullable=False)
    at = Column(DateTime, nullable=False)
    note = Column(String(200), nullable=False, default="")

    application = relationship("ReplacementApplication", back_populates="events")


class LossReport(Base):
    __tablename__ = "loss_reports"
    id = Column(Integer, primary_key=True)
    public_id = Column(String(40), nullable=False, unique=True)
    card_id = Column(Integer, ForeignKey("cards.id"), nullable=False, index=True)
    holder_id = Column(Integer, ForeignKey("holders.id"), nullable=False)
    kind = Column(String(20), nullable=False)
    channel = Column(String(20), nullable=False)
    previous_status = Column(String(20), nullable=False)
    created_at = Column(DateTime, nullable=False)


class AuditEntry(Base):
    """Append-only: what happened, when, through which channel, to whom (masked)."""

    __tablename__ = "audit_log"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, index=True)
    action = Column(String(50), nullable=False)
    channel = Column(String(20), nullable=False)
    subject_masked = Column(String(40), nullable=False)
    detail = Column(Text, nullable=False, default="{}")


class Verification(Base):
    __tablename__ = "verifications"
    id = Column(Integer, primary_key=True)
    public_id = Column(String(40), nullable=False, unique=True)
    # NULL: no holder has this name and ID number; the verification is answered
    # like a real one and its confirm always fails as a wrong code.
    holder_id = Column(Integer, ForeignKey("holders.id"), nullable=True, index=True)
    # Keyed hashes for the SMS quotas: of the name and ID number asked for,
    # and of the phone the code went to (for no holder: the identity's hash).
    identity_hash = Column(String(64), nullable=True, index=True)
    phone_hash = Column(String(64), nullable=True, index=True)
    code_hash = Column(String(64), nullable=False)
    channel = Column(String(20), nullable=False)
    created_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False)
    used_at = Column(DateTime, nullable=True)


class UnknownIdentity(Base):
    """Wrong-code count and lock of a name and ID number no holder has, so
    that they behave like a holder's (nothing tells the two apart)."""

    __tablename__ = "unknown_identities"
    id = Column(Integer, primary_key=True)
    identity_hash = Column(String(64), nullable=False, unique=True)
    id_number_masked = Column(String(18), nullable=False)
    wrong_codes = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime, nullable=True)


class VerificationToken(Base):
    __tablename__ = "verification_tokens"
    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    holder_id = Column(Integer, ForeignKey("holders.id"), nullable=False, index=True)
    verification_id = Column(Integer, ForeignKey("verifications.id"), nullable=False)
    created_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False)


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"
    id = Column(Integer, primary_key=True)
    key = Column(String(100), nullable=False, unique=True)
    fingerprint = Column(String(64), nullable=False)
    response_status = Column(Integer, nullable=True)
    response_body = Column(Text, nullable=True)
    created_at = Column(DateTime, nullable=False)


class HandoffTicket(Base):
    """A citizen's request for a person (bot/backend/handoffs.py).

    mode `live`: a person in this chat; `callback`: a person will phone back.
    status `waiting` -> `claimed` -> `closed`; every change is one conditional
    UPDATE (`... WHERE status = 'waiting'`), so one request wins a race.
    The conversation (Rasa's sender id) is stored sealed (readable by the
    backend only) beside its keyed hash; the call-back phone sealed and masked,
    both set NULL when the ticket closes."""

    __tablename__ = "handoff_tickets"
    __table_args__ = (CheckConstraint(_one_of("status", TICKET_STATUSES), name="status"),
                      CheckConstraint(_one_of("mode", TICKET_MODES), name="mode"))
    id = Column(Integer, primary_key=True)
    ticket_number = Column(String(30), nullable=False, unique=True)
    status = Column(String(10), nullable=False)
    mode = Column(String(10), nullable=False, default="live")
    summary = Column(Text, nullable=False)
    channel = Column(String(20), nullable=False)
    language = Column(String(5), nullable=False)
    holder_id = Column(Integer, ForeignKey("holders.id"), nullable=True, index=True)
    created_at = Column(DateTime, nullable=False)
    closed_at = Column(DateTime, nullable=True)
    # Keyed hashes (never the values) of the conversation and of the client's
    # address: one open ticket per conversation, a few per address an hour.
    conversation_ref = Column(String(64), nullable=True, index=True)
    client_ref = Column(String(64), nullable=True, index=True)
    conversation_sealed = Column(Text, nullable=True)
    waiting_since = Column(DateTime, nullable=True, index=True)  # the place in the queue
    claimed_by = Column(String(64), nullable=True)  # the staff username
    claimed_by_name = Column(String(64), nullable=True)  # the masked display name the citizen sees
    claimed_at = Column(DateTime, nullable=True)
    outcome = Column(String(200), nullable=True)
    callback_consent = Column(Boolean, nullable=True)
    callback_phone_sealed = Column(Text, nullable=True)
    callback_phone_masked = Column(String(20), nullable=True)

    holder = relationship("Holder")


class TicketDayCounter(Base):
    """The last ticket sequence number given out on a day (HD-YYYYMMDD-NNNN)."""

    __tablename__ = "ticket_day_counters"
    day = Column(String(8), primary_key=True)
    last = Column(Integer, nullable=False)


class SmsMessage(Base):
    """The development gateway's outbox (in production: the queue an SMS relay drains)."""

    __tablename__ = "sms_outbox"
    id = Column(Integer, primary_key=True)
    phone = Column(String(20), nullable=False)
    phone_masked = Column(String(20), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, index=True)
