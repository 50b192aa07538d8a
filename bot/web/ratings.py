"""Citizens rate the assistant in the widget (issue 13): each bot answer up or
down once, and the conversation 1 to 5 once, with an optional comment.

Both live in the web process's own database (STAFF_DB_URL), in tables on the
staff tables' Base (bot/web/staff/store.py creates them). A conversation is
kept only as a keyed hash of its Rasa sender id (`conversation_key`: the one
bot/web/handoff_state.py keys a conversation by), never the id itself; the
rated answer only by its message id (the tracker has its text); a comment
only as bot/privacy/pii.redact(codes=True) left it.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from sqlalchemy import CheckConstraint, Column, DateTime, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.opaque import conversation_key
from bot.db import utcnow
from bot.http.blocking import DatabaseWork
from bot.http.errors import HttpError
from bot.privacy.pii import redact
from bot.text import is_clean_text
from bot.web.staff.models import Base

RATINGS = ("up", "down")
SCORES = range(1, 6)
MAX_COMMENT_CHARS = 500
MAX_MESSAGE_ID_CHARS = 32  # a message's id (bot/web/rasa_client.py _stamp) is shorter


class MessageFeedback(Base):
    __tablename__ = "chat_message_feedback"
    __table_args__ = (UniqueConstraint("conversation", "message_id", name="uq_chat_message_feedback_message"),
                      CheckConstraint("rating IN ('up', 'down')", name="ck_chat_message_feedback_rating"))

    id = Column(Integer, primary_key=True)
    conversation = Column(String(64), nullable=False, index=True)  # conversation_key, never the sender id
    message_id = Column(String(MAX_MESSAGE_ID_CHARS), nullable=False)
    rating = Column(String(4), nullable=False)
    created_at = Column(DateTime, nullable=False, index=True)


class ConversationRating(Base):
    __tablename__ = "chat_conversation_ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="ck_chat_conversation_ratings_score"),)

    id = Column(Integer, primary_key=True)
    conversation = Column(String(64), nullable=False, unique=True)
    score = Column(Integer, nullable=False)
    comment = Column(String(MAX_COMMENT_CHARS), nullable=True)  # redacted
    created_at = Column(DateTime, nullable=False, index=True)


def already_rated() -> HttpError:
    return HttpError(409, "already_rated", "This has been rated already.")


# --- the request bodies ---------------------------------------------------------------------------

def feedback_of(data: Dict[str, Any]) -> tuple:
    """(message_id, rating) of a feedback body; 422 invalid_request otherwise (whose message it is: the caller)."""
    message_id, rating = data.get("message_id"), data.get("rating")
    if not isinstance(message_id, str) or not 0 < len(message_id) <= MAX_MESSAGE_ID_CHARS:
        raise HttpError(422, "invalid_request", "`message_id` must be the id of one of the assistant's messages.")
    if rating not in RATINGS:
        raise HttpError(422, "invalid_request", '`rating` must be "up" or "down".')
    return message_id, rating


def rating_of(data: Dict[str, Any]) -> tuple:
    """(score, comment or None, redacted) of a rating body; 422 invalid_score, invalid_request, 413 too_long."""
    score = data.get("score")
    if isinstance(score, bool) or not isinstance(score, int) or score not in SCORES:
        raise HttpError(422, "invalid_score", "`score` must be a whole number from 1 to 5.")
    comment = data.get("comment")
    if comment is None:
        return score, None
    if not isinstance(comment, str) or not is_clean_text(comment):
        raise HttpError(422, "invalid_request", "`comment` must be text without NUL or lone surrogate characters.")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise HttpError(413, "too_long", f"`comment` is longer than {MAX_COMMENT_CHARS} characters.")
    return score, (redact(comment, codes=True) or None)


def rated_message(messages: List[Dict[str, Any]], message_id: str) -> bool:
    """Whether `message_id` is one of the conversation's (its history's) bot answers."""
    return any(m.get("from") == "bot" and m.get("id") == message_id for m in messages)


# --- the tables -----------------------------------------------------------------------------------

def _add_feedback(session: Session, conversation: str, message_id: str, rating: str) -> None:
    session.add(MessageFeedback(conversation=conversation, message_id=message_id, rating=rating,
                                created_at=utcnow()))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise already_rated() from None


def _add_rating(session: Session, conversation: str, score: int, comment: Optional[str]) -> None:
    session.add(ConversationRating(conversation=conversation, score=score, comment=comment, created_at=utcnow()))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise already_rated() from None


def _given(session: Session, conversation: str) -> Dict[str, Any]:
    feedback = session.execute(select(MessageFeedback.message_id, MessageFeedback.rating)
                               .where(MessageFeedback.conversation == conversation)).all()
    rated = session.execute(select(ConversationRating.id)
                            .where(ConversationRating.conversation == conversation)).first() is not None
    return {"feedback": {message_id: rating for message_id, rating in feedback}, "rated": rated}


class Ratings:
    """The tables as the chat routes use them, off the event loop."""

    def __init__(self, work: DatabaseWork, opaque: Callable[[str], str]) -> None:
        self.work, self.opaque = work, opaque

    async def add_feedback(self, sender: str, message_id: str, rating: str) -> None:
        await self.work.write(_add_feedback, conversation_key(self.opaque, sender), message_id, rating)

    async def add_rating(self, sender: str, score: int, comment: Optional[str]) -> None:
        await self.work.write(_add_rating, conversation_key(self.opaque, sender), score, comment)

    async def given(self, sender: str) -> Dict[str, Any]:
        """{"feedback": {message_id: "up"|"down"}, "rated": bool} of a conversation."""
        return await self.work.read(_given, conversation_key(self.opaque, sender))
