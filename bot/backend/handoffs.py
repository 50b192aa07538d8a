"""Live hand-over: the state of a person taking over a conversation.

Plain functions over a Session, like service.py (whose ticket basics they
build on: opening, the queue position, the audit log). Every state change is
one conditional UPDATE whose rowcount says whether this request won, so two
members of staff claiming at once on two web processes (or two expiry sweeps)
get exactly one winner, on SQLite and on PostgreSQL:

    waiting --claim--> claimed --release--> closed (outcome back_to_bot / resolved / ...)
    waiting --release--> closed
    waiting (live) --expire--> waiting (callback)
    waiting --callback--> waiting (callback, consent and phone recorded)

A conversation is *held* (the channel keeps the bot silent) while it has a
live ticket that is waiting or claimed. Closing deletes the call-back phone.
The conversation id and the phone are stored sealed (bot/backend/sealing.py);
audit rows carry the staff username and the masked phone, never message text.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from bot.backend.errors import DomainError, not_found
from bot.backend.models import HandoffTicket
from bot.backend.sealing import seal, unseal
from bot.backend.service import (
    OPEN_STATUSES,
    Response,
    ticket_subject,
    audit,
    check_summary,
    close_values,
    hash_reference,
    holder_view,
    iso,
    queue_position,
    utcnow,
)
from bot.privacy.pii import mask_phone, mobile_number

DEFAULT_OUTCOME = {"bot": "back_to_bot", "closed": "resolved"}
STAFF_CHANNEL = "staff"  # the audit channel of what staff do
SYSTEM_CHANNEL = "system"  # the expiry sweep's


def handoff_not_found() -> DomainError:
    return not_found("handoff_not_found", "hand-over")


def _conflict(ticket: HandoffTicket) -> DomainError:
    """The 409 for a ticket that is no longer where the request expected it."""
    if ticket.status == "closed":
        return DomainError(409, "already_closed", "This hand-over is already closed.", status=ticket.status)
    return DomainError(409, "already_claimed", "This hand-over was already claimed.", status=ticket.status)


# --- views -----------------------------------------------------------------------------------------

def handoff_view(ticket: HandoffTicket, position: Optional[int]) -> Dict[str, Any]:
    """What the API shows of a hand-over (never the conversation, never a clear phone)."""
    return {
        "id": ticket.id,
        "ticket_number": ticket.ticket_number,
        "status": ticket.status,
        "mode": ticket.mode,
        "channel": ticket.channel,
        "language": ticket.language,
        "created_at": iso(ticket.created_at),
        "waiting_since": iso(ticket.waiting_since or ticket.created_at),
        "claimed_by": ticket.claimed_by,
        "staff_name": ticket.claimed_by_name,
        "claimed_at": iso(ticket.claimed_at),
        "closed_at": iso(ticket.closed_at),
        "outcome": ticket.outcome,
        "position": position,
        "summary": ticket.summary,
        "holder": holder_view(ticket.holder) if ticket.holder else None,
        "verified": ticket.holder_id is not None,
        "callback": {"consent": ticket.callback_consent, "phone": ticket.callback_phone_masked},
    }


def _view(session: Session, ticket: HandoffTicket) -> Dict[str, Any]:
    return handoff_view(ticket, queue_position(session, ticket))


def _ticket(session: Session, handoff_id: int) -> HandoffTicket:
    ticket = session.execute(
        select(HandoffTicket).where(HandoffTicket.id == handoff_id).options(selectinload(HandoffTicket.holder))
    ).scalar_one_or_none()
    if ticket is None:
        raise handoff_not_found()
    return ticket


def _changed(session: Session, handoff_id: int, result) -> HandoffTicket:
    """The ticket after a conditional UPDATE; 404 if there is none, 409 if the UPDATE lost."""
    ticket = _ticket(session, handoff_id)
    session.refresh(ticket)
    if result.rowcount != 1:
        raise _conflict(ticket)
    return ticket


# --- reading -----------------------------------------------------------------------------------------

def _waiting_first(session: Session, statuses, limit: int) -> List[HandoffTicket]:
    tickets: List[HandoffTicket] = []
    if "waiting" in statuses:
        tickets += session.execute(
            select(HandoffTicket).where(HandoffTicket.status == "waiting")
            .options(selectinload(HandoffTicket.holder))
            .order_by(HandoffTicket.waiting_since, HandoffTicket.id).limit(limit)
        ).scalars().all()
    if "claimed" in statuses and len(tickets) < limit:
        tickets += session.execute(
            select(HandoffTicket).where(HandoffTicket.status == "claimed")
            .options(selectinload(HandoffTicket.holder))
            .order_by(HandoffTicket.claimed_at, HandoffTicket.id).limit(limit - len(tickets))
        ).scalars().all()
    return tickets


def list_handoffs(session: Session, status: str, limit: int) -> Dict[str, Any]:
    """`open` (waiting then claimed), `waiting` (oldest first: the queue),
    `claimed` (oldest claim first) or `closed` (newest first)."""
    if status == "closed":
        tickets = session.execute(
            select(HandoffTicket).where(HandoffTicket.status == "closed")
            .options(selectinload(HandoffTicket.holder))
            .order_by(HandoffTicket.closed_at.desc(), HandoffTicket.id.desc()).limit(limit)
        ).scalars().all()
    else:
        tickets = _waiting_first(session, OPEN_STATUSES if status == "open" else (status,), limit)
    views, live_waiting = [], 0
    for ticket in tickets:  # the waiting ones come first, oldest first: their place is their rank
        position = None
        if ticket.status == "waiting" and ticket.mode == "live":
            live_waiting += 1
            position = live_waiting
        views.append(handoff_view(ticket, position))
    return {"handoffs": views}


def get_handoff(session: Session, key: str, handoff_id: int) -> Dict[str, Any]:
    """The hand-over and its conversation (unsealed: for service callers only)."""
    ticket = _ticket(session, handoff_id)
    return {"handoff": _view(session, ticket), "conversation": unseal(key, ticket.conversation_sealed)}


def lookup(session: Session, key: str, conversation: str) -> Dict[str, Any]:
    """The ticket holding `conversation` (live, waiting or claimed); 404 handoff_not_found."""
    ticket = session.execute(
        select(HandoffTicket)
        .where(HandoffTicket.conversation_ref == hash_reference(key, "conversation", conversation),
               HandoffTicket.mode == "live", HandoffTicket.status.in_(OPEN_STATUSES))
        .options(selectinload(HandoffTicket.holder))
        .order_by(HandoffTicket.id.desc()).limit(1)
    ).scalar_one_or_none()
    if ticket is None:
        raise handoff_not_found()
    return {"handoff": _view(session, ticket)}


# --- changing ----------------------------------------------------------------------------------------

def claim(session: Session, handoff_id: int, staff: str, staff_name: Optional[str],
          now: Optional[dt.datetime] = None) -> Response:
    """waiting -> claimed by `staff` (a person in the chat: mode live). 409
    already_claimed when it is not waiting any more (claimed or closed)."""
    now = now or utcnow()
    result = session.execute(
        update(HandoffTicket)
        .where(HandoffTicket.id == handoff_id, HandoffTicket.status == "waiting")
        .values(status="claimed", mode="live", claimed_by=staff, claimed_by_name=staff_name, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    ticket = _ticket(session, handoff_id)
    session.refresh(ticket)
    if result.rowcount != 1:
        raise DomainError(409, "already_claimed", "This hand-over was already claimed.", status=ticket.status)
    audit(session, "handoff_claimed", STAFF_CHANNEL, ticket_subject(ticket), now,
          ticket_number=ticket.ticket_number, staff=staff)
    return 200, {"handoff": _view(session, ticket)}


def release(session: Session, handoff_id: int, to: str, by: str, staff: Optional[str], outcome: Optional[str],
            now: Optional[dt.datetime] = None) -> Response:
    """waiting or claimed -> closed: `to` bot (the citizen left, or staff handed
    back: outcome back_to_bot) or closed (outcome resolved or staff's). The
    call-back phone is deleted. 409 already_closed."""
    now = now or utcnow()
    outcome = check_summary(outcome, "outcome") if outcome is not None else DEFAULT_OUTCOME[to]
    result = session.execute(
        update(HandoffTicket)
        .where(HandoffTicket.id == handoff_id, HandoffTicket.status.in_(OPEN_STATUSES))
        .values(**close_values(now, outcome))
        .execution_options(synchronize_session=False)
    )
    ticket = _changed(session, handoff_id, result)
    detail: Dict[str, Any] = {"ticket_number": ticket.ticket_number, "by": by, "outcome": outcome}
    if staff:
        detail["staff"] = staff
    audit(session, "handoff_released" if to == "bot" else "handoff_closed",
          STAFF_CHANNEL if by == "staff" else ticket.channel, ticket_subject(ticket), now, **detail)
    return 200, {"handoff": _view(session, ticket)}


def record_message(session: Session, handoff_id: int, staff: str, now: Optional[dt.datetime] = None) -> Response:
    """The audit record that `staff` sent a message (never its text). Only by
    the member of staff holding the claim: else 409 not_claimed_by_you
    (already_closed once closed)."""
    now = now or utcnow()
    ticket = _ticket(session, handoff_id)
    if ticket.status == "closed":
        raise _conflict(ticket)
    if ticket.status != "claimed" or ticket.claimed_by != staff:
        raise DomainError(409, "not_claimed_by_you", "Only the member of staff who claimed this hand-over can write in it.",
                          status=ticket.status)
    audit(session, "handoff_message_sent", STAFF_CHANNEL, ticket_subject(ticket), now,
          ticket_number=ticket.ticket_number, staff=staff)
    return 201, {"handoff": _view(session, ticket)}


def invalid_phone() -> DomainError:
    return DomainError(422, "invalid_phone", "The phone is not a mainland mobile number (11 digits, 13-19...).")


def record_callback(session: Session, key: str, handoff_id: int, consent: bool, phone: Optional[str],
                    now: Optional[dt.datetime] = None) -> Response:
    """A waiting ticket becomes a call-back: with consent, the mobile number
    (sealed and masked); without, the record that the citizen left no contact.
    422 invalid_phone; 409 already_claimed / already_closed."""
    now = now or utcnow()
    if consent:
        number = mobile_number(phone or "")
        if number is None:
            raise invalid_phone()
        sealed, masked = seal(key, number), mask_phone(number)
    elif phone is not None:
        raise DomainError(422, "invalid_request", "A phone is only taken with consent (consent: true).")
    else:
        sealed = masked = None
    result = session.execute(
        update(HandoffTicket)
        .where(HandoffTicket.id == handoff_id, HandoffTicket.status == "waiting")
        .values(mode="callback", callback_consent=consent, callback_phone_sealed=sealed,
                callback_phone_masked=masked)
        .execution_options(synchronize_session=False)
    )
    ticket = _changed(session, handoff_id, result)
    audit(session, "handoff_callback_recorded", ticket.channel, ticket_subject(ticket), now,
          ticket_number=ticket.ticket_number, phone=masked if consent else "no contact")
    return 200, {"handoff": _view(session, ticket)}


def expire(session: Session, key: str, older_than_seconds: int, now: Optional[dt.datetime] = None) -> Dict[str, Any]:
    """Live waiting tickets that have waited longer than `older_than_seconds`
    become call-back tickets (still waiting). Each is switched by one
    conditional UPDATE, so of two sweeps at once each ticket is returned by
    exactly one (rows are taken in id order: two sweeps never deadlock)."""
    now = now or utcnow()
    cutoff = now - dt.timedelta(seconds=older_than_seconds)
    still_live = (HandoffTicket.mode == "live", HandoffTicket.status == "waiting",
                  HandoffTicket.waiting_since <= cutoff)
    candidates = session.execute(
        select(HandoffTicket.id).where(*still_live).order_by(HandoffTicket.id)
    ).scalars().all()
    expired = []
    for handoff_id in candidates:
        result = session.execute(
            update(HandoffTicket).where(HandoffTicket.id == handoff_id, *still_live).values(mode="callback")
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            continue  # claimed, closed or expired by another request meanwhile
        ticket = _ticket(session, handoff_id)
        session.refresh(ticket)
        waited = max(0, int((now - (ticket.waiting_since or ticket.created_at)).total_seconds()))
        audit(session, "handoff_expired", SYSTEM_CHANNEL, ticket_subject(ticket), now,
              ticket_number=ticket.ticket_number, waited_seconds=waited)
        expired.append({"id": ticket.id, "ticket_number": ticket.ticket_number,
                        "conversation": unseal(key, ticket.conversation_sealed),
                        "channel": ticket.channel, "language": ticket.language, "waited_seconds": waited})
    return {"expired": expired}
