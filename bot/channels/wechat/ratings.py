"""Citizens rate on WeChat (issue 13): one question, answered by a number.

WeChat has no buttons, so a rating is asked as one line under a message and
answered by a bare number (ASCII or full-width):

- under the first FAQ answer of a Rasa session: "这个回答对您有帮助吗？回复 1 有帮助，
  回复 2 没帮助" -> that answer's message id rated up or down;
- under the message that ends a human conversation (a person had claimed it,
  then closed it or handed it back; not when the follower left it): 1 to 5
  -> the conversation's rating.

The next message, if it is just such a number, is the rating: it is stored and
answered with a short thanks, without a Rasa turn. Anything else goes to the
assistant as usual and the question lapses. Each question is asked at most
once per Rasa session (the session's start, read from the tracker store, is
kept with what was asked), never while a form or a task's confirmation is
active, never while a person holds the conversation, never under an answer
with numbered options (a number would then be ambiguous), and the 1-5 question
not to a follower whose conversation was rated already (the table keeps one
rating per conversation, and a follower's conversation is their OpenID).

Ratings go to the widget's tables (bot/web/ratings.py) on STAFF_DB_URL under
`conversation_key(hasher(web_secret_key(env)), openid)`: the figures and the
review inbox count WeChat alike. The answer's message id is the one the REST
channel and the web process give it (bot/core/message_ids.py, from its
event's timestamp). What is pending or was asked lives in the channel state
(memory, or Redis shared by replicas), keyed by the hashed OpenID.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import unicodedata
from typing import Any, Awaitable, Callable, Dict, List, NamedTuple, Optional, Text

from rasa.shared.core.events import SessionStarted

from bot.channels.rest import StampingCollector
from bot.channels.wechat import rendering
from bot.channels.wechat.handoff import handoff_payload
from bot.channels.wechat.state import ChannelState, hashed
from bot.core import settings
from bot.core.opaque import hasher, web_secret_key
from bot.privacy.slots import AWAITING_CONFIRMATION

logger = logging.getLogger(__name__)

RECORD_TTL_SECONDS = 24 * 3600  # what was asked, per follower; sessions are told apart by their start
ANSWER, CONVERSATION = "answer", "conversation"
_CHOICES = {ANSWER: {1: "up", 2: "down"}, CONVERSATION: {n: n for n in range(1, 6)}}
_NUMBER = re.compile(r"\d")
_TRAILING = " \t\r\n。.!！~～"


class Conversation(NamedTuple):
    """What the tracker store says of a follower's conversation right after a turn."""
    session: float  # the start of its Rasa session (the session_started event's timestamp; 0: none)
    busy: bool  # a form or a task's confirmation is active
    idle_seconds: Optional[float]  # the domain's session_expiration_time (None: sessions never expire)


# None when the conversation cannot be read (then nothing is asked).
ConversationNow = Callable[[str], Awaitable[Optional[Conversation]]]


def bare_number(text: str) -> Optional[int]:
    """The number a reply like "2", "２" or "5。" is, None for anything else."""
    number = unicodedata.normalize("NFKC", text or "").strip().rstrip(_TRAILING)
    return int(number) if _NUMBER.fullmatch(number) else None


class AnswerCollector(StampingCollector):
    """The REST channel's collector (each answer's `id`, as the history has it) that
    also keeps which response an answer is (`utter_action`, "utter_faq/<key>" for an FAQ)."""

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        first = len(self.messages)
        await super().send_response(recipient_id, message)
        if message.get("utter_action") and len(self.messages) > first:
            self.messages[-1]["utter_action"] = message["utter_action"]


def _faq_answer(messages: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The turn's FAQ answer when it is what the turn ends with (a form's prompt after it: no)."""
    last = messages[-1] if messages else {}
    action = last.get("utter_action")
    return last if isinstance(action, str) and action.startswith("utter_faq/") and last.get("id") else None


def conversation_now_in(conversations: Any) -> ConversationNow:
    """The Conversation as the Rasa agent's tracker store has it (the agent of the app that
    bot/channels/wechat/rasa_conversation.py is bound to): right after a turn the store hands
    out the session it just saved (bot/session_cache.py)."""

    async def now(openid: str) -> Optional[Conversation]:
        agent = getattr(getattr(getattr(conversations, "app", None), "ctx", None), "agent", None)
        if agent is None or not agent.is_ready():
            return None
        sessions = agent.domain.session_config
        idle = sessions.session_expiration_time * 60 if sessions.are_sessions_enabled() else None
        tracker = await agent.tracker_store.retrieve(openid)
        if tracker is None:
            return Conversation(0.0, False, idle)
        session = next((e.timestamp for e in reversed(tracker.events) if isinstance(e, SessionStarted)), 0.0)
        return Conversation(session, bool(tracker.active_loop_name or tracker.get_slot(AWAITING_CONFIRMATION)), idle)

    return now


class RatingStore:
    """The widget's tables (bot/web/ratings.py Ratings) on STAFF_DB_URL, opened at first use
    (the web process creates them and the local secret; this process may start first)."""

    def __init__(self, staff_db_url: str, secret_key: Callable[[], str]) -> None:
        self.url, self.secret_key = staff_db_url, secret_key
        self._ratings: Any = None
        self._opening = asyncio.Lock()

    @classmethod
    def from_settings(cls) -> "RatingStore":
        env = settings.resolved()
        return cls(env["STAFF_DB_URL"], lambda: web_secret_key(env))

    def _open(self) -> Any:
        # The web process's tables (all of them: store.py creates every table on their Base) are
        # imported when first needed: a Rasa server whose followers never rate never loads them.
        from bot.http.blocking import DatabaseWork
        from bot.web.ratings import Ratings
        from bot.web.staff.store import open_store

        return Ratings(DatabaseWork(open_store(self.url), 2, "wechat-ratings"), hasher(self.secret_key()))

    async def _tables(self) -> Any:
        async with self._opening:  # opening blocks (create_all): off the event loop, once
            if self._ratings is None:
                self._ratings = await asyncio.get_running_loop().run_in_executor(None, self._open)
        return self._ratings

    async def add_feedback(self, openid: str, message_id: str, rating: str) -> None:
        await (await self._tables()).add_feedback(openid, message_id, rating)

    async def add_rating(self, conversation: str, score: int) -> None:
        await (await self._tables()).add_rating(conversation, score, None)

    async def rated(self, conversation: str) -> bool:
        return (await (await self._tables()).given(conversation))["rated"]


def _within(record: Dict[str, Any], since: float, now: float) -> bool:
    """Whether `now` is less than the session's idle time after `since` (no Rasa session can start then)."""
    idle = record.get("idle")
    return idle is None or now - since < idle


class WeChatRatings:
    """What the channel's turns ask (`question`, under a message) and take (`reply`).

    Per follower, one small JSON record in the channel state (like the numbered options):
    `session` (its start) and `asked` (the kinds asked in it), `checked` (when a turn last
    found that session current: until the session's idle time has passed since, no other can
    have started, so the tracker store is not read again), `idle`, `pending` (the open
    question: kind, language, message id or rated conversation, when asked) and `human` (when a
    person joined). A follower's conversations with a person are rated each under a key of its own
    (the OpenID and when the person joined): the table takes one rating per conversation, and a
    follower's OpenID stands for all their conversations."""

    def __init__(self, state: ChannelState, store: Any, conversation_now: ConversationNow,
                 clock: Callable[[], float] = time.time) -> None:
        self.state, self.store, self.conversation_now, self.clock = state, store, conversation_now, clock

    def _key(self, openid: str) -> str:
        return "rating:" + hashed(openid)

    async def _record(self, openid: str) -> Dict[str, Any]:
        raw = await self.state._get(self._key(openid))  # the state's own get/set, under a key of ours
        return json.loads(raw) if raw else {}

    async def _save(self, openid: str, record: Dict[str, Any]) -> None:
        await self.state._set(self._key(openid), json.dumps(record), RECORD_TTL_SECONDS)

    async def reply(self, openid: str, text: str) -> Optional[str]:
        """The thanks when `text` answers the pending question (the rating is stored), else
        None: the message goes to the assistant and the question lapses. A question left
        unanswered longer than the session's idle time has lapsed too (a new session)."""
        record = await self._record(openid)
        pending = record.get("pending")
        if not pending:
            return None
        record["pending"] = None
        await self._save(openid, record)
        choice = _CHOICES[pending["kind"]].get(bare_number(text))
        if choice is None or not _within(record, pending["at"], self.clock()):
            return None
        try:
            if pending["kind"] == ANSWER:
                await self.store.add_feedback(openid, pending["message_id"], choice)
            else:
                await self.store.add_rating(pending["rated"], choice)
        except Exception as error:  # rated already (409), or the database: the follower is thanked all the same
            logger.warning("wechat: rating of user %s not stored: %s", hashed(openid)[:12],
                           getattr(error, "code", None) or type(error).__name__)
        return rendering.RATING_THANKS[pending["language"]]

    async def question(self, openid: str, messages: List[Dict[str, Any]], has_options: bool) -> Optional[str]:
        """The line to add under these messages of the assistant (a turn's answer, or what a
        hand-over's status change says), None when nothing is asked. Never raises."""
        try:
            return await self._question(openid, messages, has_options)
        except Exception as error:
            logger.warning("wechat: no rating asked of user %s: %s", hashed(openid)[:12], type(error).__name__)
            return None

    async def _question(self, openid: str, messages: List[Dict[str, Any]], has_options: bool) -> Optional[str]:
        handoffs = [h for h in (handoff_payload(m) for m in messages) if h]
        if any(h.get("status") == "claimed" for h in handoffs):
            record = await self._record(openid)
            await self._save(openid, {**record, "human": self.clock()})  # a person is with the follower
            return None
        if has_options:
            return None
        ended = any(h.get("status") == "closed" and h.get("by") != "citizen" for h in handoffs)
        answer = None if handoffs else _faq_answer(messages)
        if not ended and answer is None:
            return None
        kind, now, rated = (CONVERSATION if ended else ANSWER), self.clock(), None
        record = await self._record(openid)
        if ended:
            if not record.get("human"):
                return None  # nobody had joined: there was no human conversation to rate
            rated = f"{openid}#human:{int(record['human'])}"
            record["human"] = False
            await self._save(openid, record)
        elif kind in record.get("asked", []) and _within(record, record.get("checked", 0.0), now):
            return None  # asked in this session, which a turn found current lately
        elif await self.state.handoff_marked(openid):
            return None  # a person may hold the conversation
        conversation = await self.conversation_now(openid)
        if conversation is None or conversation.busy:
            return None
        same = record.get("session") == conversation.session
        record.update(session=conversation.session, asked=record.get("asked", []) if same else [], checked=now,
                      idle=conversation.idle_seconds)
        if kind in record["asked"] or (kind == CONVERSATION and await self.store.rated(rated)):
            await self._save(openid, record)
            return None
        language = rendering.language_of(" ".join(m.get("text") or "" for m in messages))
        pending = {"kind": kind, "language": language, "at": now,
                   **({"message_id": answer["id"]} if answer else {"rated": rated})}
        await self._save(openid, {**record, "asked": record["asked"] + [kind], "pending": pending})
        return (rendering.RATE_ANSWER if kind == ANSWER else rendering.RATE_CONVERSATION)[language]
