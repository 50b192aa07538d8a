"""The card authority's domain logic: plain functions over a SQLAlchemy Session.

No HTTP here: functions take a Session (and plain values), return JSON-ready
dicts and raise `DomainError` for refusals. They never commit: the caller
(api.py, in a thread through `run_in_executor`) commits after the function
returns AND after a DomainError, so what a function wrote before refusing
(an audit row, a wrong-code count, a lock) persists. A function therefore
writes nothing it would not keep before it raises.

Concurrency rules:
- state changes on a card are conditional UPDATEs (`... WHERE status = ...`)
  whose rowcount says whether this request won; that is atomic on SQLite and
  PostgreSQL, so two concurrent activations give exactly one success;
- the verification flow locks the holder row (SELECT ... FOR UPDATE; SQLite
  serialises writers anyway) so concurrent wrong codes are all counted;
- a mutation with an Idempotency-Key inserts the key (unique) before acting:
  a concurrent retry with the same key waits for the first, fails on the
  unique constraint, and replays the stored response.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import math
import re
import secrets
import unicodedata
from typing import Any, Callable, Dict, Optional, Tuple

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from bot.db import utcnow
from bot.backend import config as rules
from bot.backend.errors import DomainError, not_found, verification_required
from bot.backend.models import (
    AuditEntry,
    Card,
    HandoffTicket,
    Holder,
    IdempotencyRecord,
    LossReport,
    ReplacementApplication,
    TicketDayCounter,
    UnknownIdentity,
    Verification,
    VerificationToken,
)
from bot.backend.sms import SmsGateway, verification_text
from bot.privacy.pii import ID_NUMBER_REASONS, InvalidIdNumber, mask_id_number, mask_name, normalize_id_number, redact

log = logging.getLogger("bot.backend")

Response = Tuple[int, Dict[str, Any]]
BEIJING = dt.timezone(dt.timedelta(hours=8))
ANONYMOUS = "-"


# --- small helpers ---------------------------------------------------------------------------


def iso(moment: Optional[dt.datetime]) -> Optional[str]:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_date(day: Optional[dt.date]) -> Optional[str]:
    return None if day is None else day.isoformat()


def new_public_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(12)}"


def hash_id_number(key: str, id_number: str) -> str:
    """HMAC-SHA256 of the canonical (normalised) ID number."""
    return hmac.new(key.encode(), id_number.encode(), hashlib.sha256).hexdigest()


def hash_code(key: str, verification_public_id: str, code: str) -> str:
    message = f"{verification_public_id}:{code}".encode("utf-8", "surrogatepass")
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def normalize_name(name: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", name)).strip()


def mask_card_number(number: str) -> str:
    return "****" + number[-4:]


def derived_key(key: str, purpose: str) -> bytes:
    """A key of its own for each use of the ID hash key."""
    return hmac.new(key.encode(), f"purpose:{purpose}".encode(), hashlib.sha256).digest()


def fingerprint(key: str, *parts: Any) -> str:
    """What makes two requests "the same" for idempotency. Keyed: a body
    holds a name and an ID number, and a plain hash of it next to the
    holder's masked number gave the number back after ~36 000 guesses."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(derived_key(key, "fingerprint"), text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def hash_identity(key: str, name: str, id_number: str) -> str:
    """Keyed hash of a (normalised) name and ID number: the SMS quota's identity."""
    message = f"{name}\u0000{id_number}".encode("utf-8", "surrogatepass")
    return hmac.new(derived_key(key, "identity"), message, hashlib.sha256).hexdigest()


def hash_phone(key: str, phone: str) -> str:
    return hmac.new(derived_key(key, "phone"), phone.encode(), hashlib.sha256).hexdigest()


def audit(session: Session, action: str, channel: str, subject_masked: str, now: dt.datetime, **detail: Any) -> None:
    """Appends an audit row (never updated or deleted) and logs it, masked."""
    session.add(
        AuditEntry(
            at=now,
            action=action,
            channel=channel,
            subject_masked=subject_masked,
            detail=json.dumps(detail, sort_keys=True, ensure_ascii=False),
        )
    )
    log.info("audit %s channel=%s subject=%s %s", action, channel, subject_masked,
             " ".join(f"{k}={v}" for k, v in sorted(detail.items())))


# --- views (what the API shows) -----------------------------------------------------------------

def holder_view(holder: Holder) -> Dict[str, str]:
    return {"name_masked": mask_name(holder.name), "id_number_masked": holder.id_number_masked}


def card_view(card: Card) -> Dict[str, Any]:
    return {
        "card_id": card.public_id,
        "card_number_masked": mask_card_number(card.card_number),
        "status": card.status,
        "social_security_active": bool(card.social_security_active),
        "financial_active": bool(card.financial_active),
        "issued_on": iso_date(card.issued_on),
        "expires_on": iso_date(card.expires_on),
        "issuing_bank": card.issuing_bank,
        "pickup_location": card.pickup_location,
    }


def application_view(application: ReplacementApplication) -> Dict[str, Any]:
    return {
        "application_id": application.public_id,
        "status": application.status,
        "submitted_at": iso(application.submitted_at),
        "old_card_number_masked": mask_card_number(application.old_card.card_number),
        "new_card_number_masked": mask_card_number(application.new_card.card_number) if application.new_card else None,
        "pickup_location": application.pickup_location,
        "timeline": [{"status": e.status, "at": iso(e.at), "note": e.note} for e in application.events],
    }


def ticket_view(ticket: HandoffTicket) -> Dict[str, Any]:
    """The /v1/handoff-tickets view: `open` (waiting or claimed) or `closed`."""
    return {
        "ticket_number": ticket.ticket_number,
        "status": "closed" if ticket.status == "closed" else "open",
        "created_at": iso(ticket.created_at),
        "closed_at": iso(ticket.closed_at),
        "channel": ticket.channel,
        "language": ticket.language,
        "summary": ticket.summary,
        "holder": holder_view(ticket.holder) if ticket.holder else None,
    }


# --- identity verification ----------------------------------------------------------------------

def _retry_after(holder: Holder, now: dt.datetime) -> int:
    return max(1, math.ceil((holder.locked_until - now).total_seconds()))


def _locked(holder: Holder, now: dt.datetime) -> bool:
    return holder.locked_until is not None and holder.locked_until > now


def _identity_locked(holder: Holder, now: dt.datetime) -> DomainError:
    return DomainError(
        423,
        "identity_locked",
        "Too many wrong codes: this identity is locked for a while; try again later or ask for a person.",
        retry_after=_retry_after(holder, now),
    )


def _unknown_identity(session: Session, identity: str, masked: str) -> UnknownIdentity:
    """The lock state of a name and ID number no holder has (created at
    first use), locked for update like a holder's row."""
    query = select(UnknownIdentity).where(UnknownIdentity.identity_hash == identity).with_for_update()
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        try:
            with session.begin_nested():
                session.add(UnknownIdentity(identity_hash=identity, id_number_masked=masked, wrong_codes=0))
        except IntegrityError:  # a concurrent request created it first
            pass
        row = session.execute(query).scalar_one()
    return row


def _check_quota(session: Session, column: Any, value: str, limit: int, seconds: int, now: dt.datetime) -> None:
    """DomainError 429 when `limit` codes went to `value` within `seconds`."""
    since = now - dt.timedelta(seconds=seconds)
    recent = session.execute(
        select(Verification.created_at).where(column == value, Verification.created_at > since)
        .order_by(Verification.created_at.desc()).limit(limit)
    ).scalars().all()
    if len(recent) >= limit:
        raise DomainError(
            429, "too_many_codes", "Too many codes were sent for this identity or phone; try again later.",
            retry_after=max(1, math.ceil((recent[-1] - since).total_seconds())),
        )


def start_verification(
    session: Session,
    id_hash_key: str,
    gateway: SmsGateway,
    name: str,
    id_number: str,
    channel: str,
    now: Optional[dt.datetime] = None,
    *,
    codes_per_identity_hour: int = 5,
    codes_per_phone_day: int = 10,
) -> Dict[str, Any]:
    """Sends a 6-digit code to the holder's phone on file; returns the
    verification id (never the code, never a hint of the phone).

    A name and ID number no holder has get the same answer, through the same
    work (hashes, quota, lock, a stored verification) but for the SMS: a
    verification whose code is never sent and never 6 digits, so its confirm
    fails as a wrong code, counts and locks like a holder's. A script learns
    nothing about who is a holder; the quotas (per identity an hour, per
    phone a day) stop it from flooding a phone."""
    now = now or utcnow()
    try:
        number = normalize_id_number(id_number, today=now.date())
    except InvalidIdNumber as error:
        raise DomainError(
            422, "invalid_id_number", ID_NUMBER_REASONS[error.reason]["en"], reason=error.reason
        ) from None
    name = normalize_name(name)
    if not name:
        raise DomainError(422, "invalid_request", "Field 'name' must not be empty.")
    masked = mask_id_number(number)
    identity = hash_identity(id_hash_key, name, number)
    holder = session.execute(
        select(Holder).where(Holder.id_number_hash == hash_id_number(id_hash_key, number)).with_for_update()
    ).scalar_one_or_none()
    if holder is not None and not hmac.compare_digest(normalize_name(holder.name).encode(), name.encode()):
        holder = None
    subject = holder if holder is not None else _unknown_identity(session, identity, masked)
    if _locked(subject, now):
        audit(session, "verification_refused_locked", channel, masked, now)
        raise _identity_locked(subject, now)
    phone_hash = hash_phone(id_hash_key, holder.phone) if holder is not None else identity
    try:
        _check_quota(session, Verification.identity_hash, identity, codes_per_identity_hour,
                     rules.IDENTITY_QUOTA_SECONDS, now)
        _check_quota(session, Verification.phone_hash, phone_hash, codes_per_phone_day,
                     rules.PHONE_QUOTA_SECONDS, now)
    except DomainError:
        audit(session, "verification_refused_quota", channel, masked, now)
        raise
    # No holder: a code that is never sent and can never be typed (not 6 digits).
    code = f"{secrets.randbelow(10 ** 6):06d}" if holder is not None else secrets.token_hex(8)
    verification = Verification(
        public_id=new_public_id("ver"),
        holder_id=holder.id if holder is not None else None,
        identity_hash=identity,
        phone_hash=phone_hash,
        channel=channel,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=rules.CODE_LIFETIME_SECONDS),
        code_hash="",
    )
    verification.code_hash = hash_code(id_hash_key, verification.public_id, code)
    session.add(verification)
    if holder is not None:
        gateway.send(session, holder.phone, verification_text(code, rules.CODE_LIFETIME_SECONDS // 60), now)
    audit(session, "verification_started" if holder is not None else "verification_holder_not_found",
          channel, masked, now, verification_id=verification.public_id)
    return {"verification_id": verification.public_id, "expires_in": rules.CODE_LIFETIME_SECONDS}


def confirm_verification(
    session: Session, id_hash_key: str, verification_id: str, code: str, now: Optional[dt.datetime] = None
) -> Dict[str, Any]:
    """Checks the code; the right one gives a verification token (15 minutes),
    the 5th wrong one for an identity (across its verifications) locks it.
    A verification for no holder always fails as a wrong code."""
    now = now or utcnow()
    row = session.execute(
        select(Verification.id, Verification.holder_id, Verification.identity_hash)
        .where(Verification.public_id == verification_id)
    ).first()
    if row is None:
        raise not_found("verification_not_found", "verification")
    if row.holder_id is not None:
        holder = session.execute(select(Holder).where(Holder.id == row.holder_id).with_for_update()).scalar_one()
        subject, masked = holder, holder.id_number_masked
    else:
        holder = None
        subject = session.execute(
            select(UnknownIdentity).where(UnknownIdentity.identity_hash == row.identity_hash).with_for_update()
        ).scalar_one()
        masked = subject.id_number_masked
    verification = session.execute(
        select(Verification).where(Verification.id == row.id).with_for_update()
    ).scalar_one()
    channel = verification.channel
    if _locked(subject, now):
        audit(session, "verification_refused_locked", channel, masked, now, verification_id=verification_id)
        raise _identity_locked(subject, now)
    if verification.used_at is not None or verification.expires_at <= now:
        raise DomainError(410, "verification_expired", "This verification has expired or was already used; start again.")
    right = hmac.compare_digest(hash_code(id_hash_key, verification_id, code), verification.code_hash)
    if holder is None or not right:
        subject.wrong_codes = (subject.wrong_codes or 0) + 1
        if subject.wrong_codes >= rules.MAX_WRONG_CODES:
            subject.wrong_codes = 0
            subject.locked_until = now + dt.timedelta(seconds=rules.LOCK_SECONDS)
            audit(session, "identity_locked", channel, masked, now,
                  verification_id=verification_id, seconds=rules.LOCK_SECONDS)
            raise _identity_locked(subject, now)
        attempts_left = rules.MAX_WRONG_CODES - subject.wrong_codes
        audit(session, "verification_failed", channel, masked, now,
              verification_id=verification_id, attempts_left=attempts_left)
        raise DomainError(422, "wrong_code", "The code is not right.", attempts_left=attempts_left)
    token = secrets.token_urlsafe(32)
    verification.used_at = now
    holder.wrong_codes = 0
    session.add(
        VerificationToken(
            token_hash=hash_token(token),
            holder_id=holder.id,
            verification_id=verification.id,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=rules.TOKEN_LIFETIME_SECONDS),
        )
    )
    audit(session, "verification_confirmed", channel, masked, now, verification_id=verification_id)
    return {
        "verification_token": token,
        "expires_in": rules.TOKEN_LIFETIME_SECONDS,
        "holder": holder_view(holder),
    }


def holder_for_token(session: Session, token: str, now: Optional[dt.datetime] = None) -> Tuple[Holder, str]:
    """The holder a verification token stands for, and the channel it was
    verified through; DomainError 401 if the token is unknown or expired."""
    now = now or utcnow()
    row = session.execute(
        select(VerificationToken, Verification.channel)
        .join(Verification, Verification.id == VerificationToken.verification_id)
        .where(VerificationToken.token_hash == hash_token(token))
    ).first()
    if row is None or row[0].expires_at <= now:
        raise verification_required()
    holder = session.get(Holder, row[0].holder_id)
    return holder, row[1]


# --- cards ---------------------------------------------------------------------------------------

def list_cards(session: Session, holder: Holder) -> Dict[str, Any]:
    cards = session.execute(
        select(Card).where(Card.holder_id == holder.id).order_by(Card.created_at.desc(), Card.id.desc())
    ).scalars()
    return {"cards": [card_view(card) for card in cards]}


def _holders_card(session: Session, holder: Holder, card_id: str) -> Card:
    card = session.execute(
        select(Card).where(Card.public_id == card_id, Card.holder_id == holder.id)
    ).scalar_one_or_none()
    if card is None:
        raise not_found("card_not_found", "card among this holder's cards")
    return card


def activate_card(session: Session, holder: Holder, card_id: str, channel: str, now: Optional[dt.datetime] = None) -> Response:
    """issued_inactive -> active with the social-security function on; the
    financial (bank) function is never touched here."""
    now = now or utcnow()
    card = _holders_card(session, holder, card_id)
    result = session.execute(
        update(Card)
        .where(Card.id == card.id, Card.status == "issued_inactive")
        .values(status="active", social_security_active=True, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(card)
    if result.rowcount != 1:
        raise DomainError(
            409, "card_not_activatable", f"Only a card that is issued_inactive can be activated; this one is {card.status}.",
            status=card.status,
        )
    audit(session, "card_activated", channel, holder.id_number_masked, now,
          card_id=card.public_id, card=mask_card_number(card.card_number))
    return 200, card_view(card)


REPORTABLE = ("issued_inactive", "active")


def report_loss(session: Session, holder: Holder, card_id: str, channel: str, now: Optional[dt.datetime] = None) -> Response:
    """A temporary loss report: the card's status becomes reported_lost."""
    now = now or utcnow()
    card = _holders_card(session, holder, card_id)
    previous = card.status
    result = None
    if previous in REPORTABLE:
        result = session.execute(
            update(Card)
            .where(Card.id == card.id, Card.status == previous)
            .values(status="reported_lost", updated_at=now)
            .execution_options(synchronize_session=False)
        )
    session.refresh(card)
    if result is None or result.rowcount != 1:
        raise DomainError(
            409, "card_not_reportable",
            f"Only a card in the holder's hands (issued_inactive or active) can be reported lost; this one is {card.status}.",
            status=card.status,
        )
    report = LossReport(
        public_id=new_public_id("lr"), card_id=card.id, holder_id=holder.id, kind="temporary",
        channel=channel, previous_status=previous, created_at=now,
    )
    session.add(report)
    audit(session, "card_reported_lost", channel, holder.id_number_masked, now,
          card_id=card.public_id, card=mask_card_number(card.card_number), loss_report_id=report.public_id)
    return 201, {"loss_report_id": report.public_id, "card": card_view(card), "kind": "temporary"}


def list_applications(session: Session, holder: Holder) -> Dict[str, Any]:
    applications = session.execute(
        select(ReplacementApplication)
        .where(ReplacementApplication.holder_id == holder.id)
        .options(
            selectinload(ReplacementApplication.events),
            selectinload(ReplacementApplication.old_card),
            selectinload(ReplacementApplication.new_card),
        )
        .order_by(ReplacementApplication.submitted_at.desc(), ReplacementApplication.id.desc())
    ).scalars()
    return {"applications": [application_view(a) for a in applications]}


# --- handoff tickets ---------------------------------------------------------------------------

def check_summary(summary: str, field: str = "summary") -> str:
    """The summary (or another short free text: `field`), stripped; DomainError
    if empty or carrying a clear ID or phone number."""
    summary = summary.strip()
    if not summary:
        raise DomainError(422, "invalid_request", f"Field '{field}' must not be empty.")
    folded = unicodedata.normalize("NFKC", summary)
    if redact(folded) != folded:
        raise DomainError(
            422, f"personal_data_in_{field}",
            f"The {field} contains an ID number or a phone number; leave them out (the ticket links the verified holder).",
        )
    return summary


def _next_ticket_number(session: Session, now: dt.datetime) -> str:
    day = now.replace(tzinfo=dt.timezone.utc).astimezone(BEIJING).strftime("%Y%m%d")
    for _ in range(3):
        bumped = session.execute(
            update(TicketDayCounter).where(TicketDayCounter.day == day).values(last=TicketDayCounter.last + 1)
            .execution_options(synchronize_session=False)
        )
        if bumped.rowcount == 1:
            break
        try:
            with session.begin_nested():
                session.add(TicketDayCounter(day=day, last=1))
            break
        except IntegrityError:  # another request created today's counter first: bump it
            continue
    last = session.execute(select(TicketDayCounter.last).where(TicketDayCounter.day == day)).scalar_one()
    return f"HD-{day}-{last:04d}"


TICKETS_PER_CLIENT_PER_HOUR = 5


def hash_reference(key: str, kind: str, value: Optional[str]) -> Optional[str]:
    """A keyed hash of a conversation or client reference (None stays None): stored instead of it."""
    if not value:
        return None
    return hmac.new(key.encode(), f"{kind}:{value}".encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()


OPEN_STATUSES = ("waiting", "claimed")  # the old API's "open"


def queue_position(session: Session, ticket: HandoffTicket) -> Optional[int]:
    """1-based place of a live waiting ticket among the live waiting tickets
    (oldest first); None for any other ticket."""
    if ticket.mode != "live" or ticket.status != "waiting" or ticket.waiting_since is None:
        return None
    ahead = session.execute(
        select(func.count()).select_from(HandoffTicket).where(
            HandoffTicket.mode == "live", HandoffTicket.status == "waiting",
            or_(HandoffTicket.waiting_since < ticket.waiting_since,
                and_(HandoffTicket.waiting_since == ticket.waiting_since, HandoffTicket.id < ticket.id)),
        )
    ).scalar_one()
    return ahead + 1


def _ticket_created(session: Session, ticket: HandoffTicket, **extra: Any) -> Dict[str, Any]:
    return {
        "id": ticket.id,
        "ticket_number": ticket.ticket_number,
        "status": "open",
        "mode": ticket.mode,
        "position": queue_position(session, ticket),
        "created_at": iso(ticket.created_at),
        "holder_linked": ticket.holder_id is not None,
        **extra,
    }


def open_ticket(
    session: Session, holder: Optional[Holder], summary: str, channel: str, language: str,
    now: Optional[dt.datetime] = None, conversation_ref: Optional[str] = None, client_ref: Optional[str] = None,
    mode: str = "live", conversation_sealed: Optional[str] = None,
) -> Response:
    """201 and a new ticket (waiting, in `mode`); 200 and the conversation's
    ticket while that is open (a script saying "转人工" again and again fills
    no list): a waiting call-back ticket asked for live again joins the queue
    again, at its end. 429 past the client's hourly share. Turns of one
    conversation never run at once (Rasa's conversation lock), so the check and
    the insert need no lock of their own."""
    now = now or utcnow()
    if conversation_ref:
        already = session.execute(
            select(HandoffTicket).where(HandoffTicket.conversation_ref == conversation_ref,
                                        HandoffTicket.status.in_(OPEN_STATUSES))
            .order_by(HandoffTicket.id.desc()).limit(1)
        ).scalar_one_or_none()
        if already is not None:
            if mode == "live" and already.mode == "callback":
                requeued = session.execute(
                    update(HandoffTicket)
                    .where(HandoffTicket.id == already.id, HandoffTicket.status == "waiting",
                           HandoffTicket.mode == "callback")
                    .values(mode="live", waiting_since=now)
                    .execution_options(synchronize_session=False)
                )
                session.refresh(already)
                if requeued.rowcount == 1:
                    audit(session, "handoff_requeued", channel, ticket_subject(already), now,
                          ticket_number=already.ticket_number)
            return 200, _ticket_created(session, already, already_open=True)
    if client_ref:
        since = now - dt.timedelta(hours=1)
        recent = session.execute(
            select(HandoffTicket.created_at).where(HandoffTicket.client_ref == client_ref,
                                                   HandoffTicket.created_at > since)
            .order_by(HandoffTicket.created_at).limit(TICKETS_PER_CLIENT_PER_HOUR)
        ).scalars().all()
        if len(recent) >= TICKETS_PER_CLIENT_PER_HOUR:
            wait = max(1, int((recent[0] - since).total_seconds()) + 1)
            raise DomainError(429, "too_many_tickets", "Too many tickets from this client within an hour.",
                              retry_after=wait)
    ticket = HandoffTicket(
        ticket_number=_next_ticket_number(session, now), status="waiting", mode=mode, summary=summary,
        channel=channel, language=language, holder_id=holder.id if holder else None, created_at=now,
        waiting_since=now, conversation_ref=conversation_ref, client_ref=client_ref,
        conversation_sealed=conversation_sealed,
    )
    session.add(ticket)
    session.flush()
    audit(session, "handoff_ticket_opened", channel, holder.id_number_masked if holder else ANONYMOUS, now,
          ticket_number=ticket.ticket_number, language=language, mode=mode)
    return 201, _ticket_created(session, ticket)


def ticket_subject(ticket: HandoffTicket) -> str:
    """Whom an audit row of this ticket is about: the linked holder (masked), else anonymous."""
    return ticket.holder.id_number_masked if ticket.holder else ANONYMOUS


CLOSED_VALUES = {"status": "closed", "callback_phone_sealed": None, "callback_phone_masked": None}


def close_values(now: dt.datetime, outcome: str) -> Dict[str, Any]:
    """What closing a ticket sets: closed, when, the outcome, and the call-back phone deleted."""
    return {**CLOSED_VALUES, "closed_at": now, "outcome": outcome}


def close_ticket(session: Session, ticket_number: str, channel: str, now: Optional[dt.datetime] = None) -> Response:
    now = now or utcnow()
    result = session.execute(
        update(HandoffTicket)
        .where(HandoffTicket.ticket_number == ticket_number, HandoffTicket.status.in_(OPEN_STATUSES))
        .values(**close_values(now, "resolved"))
        .execution_options(synchronize_session=False)
    )
    ticket = session.execute(
        select(HandoffTicket).where(HandoffTicket.ticket_number == ticket_number)
    ).scalar_one_or_none()
    if ticket is None:
        raise not_found("ticket_not_found", "handoff ticket")
    if result.rowcount != 1:
        raise DomainError(409, "ticket_not_open", "This ticket is already closed.", status=ticket_view(ticket)["status"])
    session.refresh(ticket)
    audit(session, "handoff_ticket_closed", channel, ticket_subject(ticket), now, ticket_number=ticket_number)
    return 200, ticket_view(ticket)


def list_tickets(session: Session, status: Optional[str], limit: int) -> Dict[str, Any]:
    query = select(HandoffTicket).options(selectinload(HandoffTicket.holder))
    if status == "open":
        query = query.where(HandoffTicket.status.in_(OPEN_STATUSES))
    elif status:
        query = query.where(HandoffTicket.status == status)
    tickets = session.execute(query.order_by(HandoffTicket.id.desc()).limit(limit)).scalars()
    return {"tickets": [ticket_view(t) for t in tickets]}


# --- idempotency ---------------------------------------------------------------------------------

def _replay(record: IdempotencyRecord, request_fingerprint: str) -> Tuple[int, Dict[str, Any], bool]:
    if not hmac.compare_digest(record.fingerprint, request_fingerprint):
        raise DomainError(
            409, "idempotency_key_reused",
            "This Idempotency-Key was already used for a different request; use a new key.",
        )
    if record.response_status is None:  # cannot be seen under READ COMMITTED; defensive
        raise DomainError(409, "idempotency_key_in_use", "A request with this Idempotency-Key is still running.")
    return record.response_status, json.loads(record.response_body), True


def idempotent(
    session: Session, key: str, request_fingerprint: str, action: Callable[[Session], Response]
) -> Tuple[int, Dict[str, Any], bool]:
    """Runs `action` once per key: (status, body, replayed).

    The key is inserted before acting, so a concurrent request with the same
    key blocks on (PostgreSQL) or is serialised behind (SQLite) the first and
    then replays its stored response. A DomainError from `action` is a result
    like any other: the error response is stored and replayed. The caller commits.
    """
    for _ in range(5):
        existing = session.execute(
            select(IdempotencyRecord).where(IdempotencyRecord.key == key)
        ).scalar_one_or_none()
        if existing is not None:
            return _replay(existing, request_fingerprint)
        record = IdempotencyRecord(key=key, fingerprint=request_fingerprint, created_at=utcnow())
        session.add(record)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()  # the other request with this key committed first: replay it
            continue
        try:
            status, body = action(session)
        except DomainError as error:
            status, body = error.status, error.body()
        record.response_status = status
        record.response_body = json.dumps(body, ensure_ascii=False)
        return status, body, False
    raise DomainError(409, "idempotency_key_in_use", "A request with this Idempotency-Key is still running; retry.")
