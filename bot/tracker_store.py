"""A tracker store that never writes personal data to the database.

`RedactingTrackerStore` is Rasa's `SQLTrackerStore` with one change: before a
tracker is saved (and before its events are streamed to an event broker), its
events are replaced by redacted copies:

- user messages (`UserUttered`): the text, `parse_data["text"]`, entity
  values and metadata pass through `bot.privacy.pii.redact` (ID and phone numbers
  masked). A message typed while the form asks for the SMS code or the ID
  number (the `requested_slot` slot is `sms_code` / `id_number_masked` at that
  point of the conversation, known by replaying the events) is masked whole
  (every character a star) when it holds a digit, and its entities have every
  digit masked; a message that
  mentions a password or PIN ("密码是123456", "my pin is 1234"). One that
  mentions a code ("验证码 123456") has its 4-8 digit runs masked. A message
  typed while the form asks for the holder's name that is a name is masked
  like one (张*).
- `SlotSet` values (expected masked or sealed already) are redacted anyway,
  except sealed ones (`bot.privacy.sealed`: ciphertext, kept whole so the action
  server can open them in a later turn); a secret slot's value
  (`bot.privacy.slots.SECRET_NAMES`: the SMS code, the verification token,
  anything named password or pin) is masked whole unless it is a status word
  ("verified"), and digits the user typed in a code or password message are
  masked in whatever the same turn puts in a slot.
- bot messages and `EntitiesAdded` are redacted too.

The tracker Rasa keeps in memory for the rest of the turn is never changed:
the store writes redacted copies of the events it has not stored yet (the
earlier ones are only replayed, for the state). Conversations read back
(`retrieve`) are the redacted ones.

Reading and saving cost the same at the hundredth message as at the first:
the store keeps the sessions this process read or saved lately
(`bot.session_cache`) and hands out a copy of one while the database's key of
the conversation (its event count and highest id) says no process stored or
deleted anything since; a save writes the new events and applies them to the
kept copy. The trackers it hands out (`bot.session_tracker.SessionTracker`)
give Rasa's policies the states of the recent turns only, the same ones.

endpoints.yml:

    tracker_store:
      type: bot.tracker_store.RedactingTrackerStore
      url: ${TRACKER_DB_URL}

Rasa (rasa.core.tracker_store._load_from_module_name_in_endpoint_config)
calls the class with host=<url>, domain=..., event_broker=..., and every
other key of the section (dialect, db, port, username, password, login_db,
query) as keyword arguments: the same ones as SQLTrackerStore. Creating the
store installs our patches of Rasa (`bot.rasa_ext.bootstrap.install()`: log
redaction among them), as each of our plug-ins does.
"""
from __future__ import annotations

import contextlib
import copy
import json
import re
import unicodedata
from collections import deque
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Text

import sqlalchemy as sa
import sqlalchemy.orm
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs, ensure_schema_exists
from rasa.shared.core.constants import REQUESTED_SLOT
from rasa.shared.core.events import BotUttered, EntitiesAdded, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.privacy.pii import ASCII_WORD, mask_name, mentions_password, name_typed, redact
from bot.privacy.sealed import is_sealed
from bot.privacy.slots import HOLDER_NAME, SECRET_NAMES, SECRET_PROMPTS
from bot.privacy.walk import map_strings
from bot.rasa_ext import bootstrap
from bot.session_cache import Key, SessionCache
from bot.session_tracker import SessionTracker, clone, copied_message, deep_copy, deserialise_events, window_for


_CODE = re.compile(

    r"验\s*证\s*[码碼]|驗\s*證\s*[码碼]|校\s*验\s*[码碼]|短\s*信\s*[码碼]|动\s*态\s*[码碼]|"
    + ASCII_WORD.format(r"(?:codes?|otp|sms)"),
    re.IGNORECASE,
)
# Digits not part of an already masked value (110105********002X, 138****5678).
_LOOSE_DIGITS = re.compile(r"(?<![\d*])\d+(?![\d*])")
# A code said with Chinese numerals (voice input): 幺二三四五六.
_CHINESE_DIGITS = re.compile(r"[零〇一二三四五六七八九幺两壹贰叁肆伍陆柒捌玖]{4,}")
_MIN_ECHO = 4  # typed digit runs at least this long are masked wherever the same turn repeats them


def mentions_code(text: Optional[str]) -> bool:
    return bool(text) and bool(_CODE.search(unicodedata.normalize("NFKC", text)))


def _stars(match: re.Match) -> str:
    return "*" * len(match.group(0))


def redact_user_text(text: Optional[str], *, code_expected: bool = False) -> Optional[str]:
    """What is stored of a user's message: ID and phone numbers masked; with
    `code_expected` (the form asked for the SMS code) or when the text
    mentions a password/PIN, every digit; when it mentions a code, 4-8 digit runs."""
    if not isinstance(text, str) or not text:
        return text
    secret = code_expected or mentions_password(text)
    masked = redact(text, codes=secret or mentions_code(text))
    if secret:
        masked = _LOOSE_DIGITS.sub(_stars, masked)  # \d: full-width digits too
        masked = _CHINESE_DIGITS.sub(_stars, masked)
    return masked


def mask_whole(text: str) -> str:
    """Every character but spaces as a star: what is stored of a message
    typed at the ID-number or code prompt (it may hold the number in any
    form, and the name with it)."""
    return re.sub(r"\S", "*", text)


# A secret slot's status word ("verified", "failed"): the only unsealed value it keeps.
_STATUS_WORD = re.compile(r"[a-z]{1,16}")


def _secret_value(text: str) -> str:
    """What is stored of a secret slot's value that is not sealed (a code, a
    token): masked whole, like a message typed at the code prompt."""
    return text if _STATUS_WORD.fullmatch(text) else mask_whole(text)


def _typed_digits(text: Optional[str]) -> Set[str]:
    if not isinstance(text, str):
        return set()
    return {run for run in re.findall(r"\d+", unicodedata.normalize("NFKC", text)) if len(run) >= _MIN_ECHO}


def _mask_echoes(text: str, secrets: Set[str]) -> str:
    for run in sorted(secrets, key=len, reverse=True):
        text = re.sub(rf"(?<!\d){re.escape(run)}(?!\d)", "*" * len(run), text)
    return text


def _entities(entities: Any, fn) -> Any:
    """Entity dicts with every string value and every number value (a number
    entity can hold an ID number or a code) passed through fn."""
    if not isinstance(entities, list):
        return entities
    result = []
    for entity in entities:
        if not isinstance(entity, dict):
            result.append(entity)
            continue
        entity = dict(entity)
        for key, value in entity.items():
            if key in ("start", "end", "confidence", "confidence_entity", "confidence_role", "confidence_group"):
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                text = str(value)
                masked = fn(text)
                entity[key] = value if masked == text else masked
            else:
                entity[key] = map_strings(value, fn)
        result.append(entity)
    return result


# parse_data keys that hold no user text (model output, ids): kept as they are.
_PARSE_DATA_KEPT = frozenset({"intent", "intent_ranking", "response_selector", "message_id"})
# Not stored: the tokens' offsets into the text as typed (Rasa X annotated with them; nothing here or
# in Rasa's dialogue reads them). A 2 400-character message of emoji kept 300 KB of them in memory.
_PARSE_DATA_DROPPED = frozenset({"text_tokens"})
# What a button's payload looks like ("/affirm", "/faq/reissue_fee{...}"). A message
# that starts with "/" but is not one ("/李四 4405...") is text the user typed:
# Rasa takes its first word for an intent name, so the name is masked too.
_PAYLOAD = re.compile(r"^/[a-z0-9_]+(?:/[a-z0-9_]+)?(?:\{.*\})?$", re.DOTALL)
# An intent's name; EXTERNAL_... the ones other processes trigger (a hand-over's status change).
_INTENT_NAME = re.compile(r"^(?:EXTERNAL_)?[a-z0-9_]+(?:/[a-z0-9_]+)?$")


# The id Rasa stamps on every event (trackers.py update(): the model that produced it), a uuid4's
# 32 hex digits: kept as it is (its digit runs can look like a phone or ID number to redact()).
_MODEL_ID = re.compile(r"[0-9a-f]{32}")


def _redacted_metadata(metadata: Any) -> Any:
    """An event's metadata through redact(), but the model id."""
    model_id = metadata.get("model_id") if isinstance(metadata, dict) else None
    redacted = map_strings(metadata, redact)
    if isinstance(model_id, str) and _MODEL_ID.fullmatch(model_id):
        redacted["model_id"] = model_id
    return redacted


def _intent_names_masked(value: Any) -> Any:
    """An intent dict or ranking with any name that is not an intent name masked whole."""
    if isinstance(value, dict):
        name = value.get("name")
        if isinstance(name, str) and not _INTENT_NAME.match(name):
            return {**value, "name": mask_whole(name)}
        return deep_copy(value)
    if isinstance(value, list):
        return [_intent_names_masked(v) for v in value]
    return deep_copy(value)


def _redacted_user_event(event: UserUttered, secret_expected: bool, name_expected: bool) -> UserUttered:
    def text_fn(value: str) -> str:
        return redact_user_text(value, code_expected=secret_expected or mentions_password(event.text))

    def whole_text_fn(value: str) -> str:  # the message itself (not its entities' names)
        if secret_expected and re.search(r"\d", value):
            return mask_whole(value)
        if value.startswith("/") and not _PAYLOAD.match(value):
            return mask_whole(value)
        # name_typed: also "我叫李四" / "my name is ..." (stored as the masked name alone).
        name = name_typed(value) if name_expected else None
        return mask_name(name) if name else text_fn(value)

    copied = copied_message(event, replaced=("text", "entities", "metadata", "parse_data"))
    copied.text = whole_text_fn(event.text) if event.text else event.text
    copied.entities = _entities(event.entities, text_fn)
    copied.metadata = _redacted_metadata(event.metadata)
    parse_data: Dict[str, Any] = {}
    for key, value in (event.parse_data or {}).items():
        if key in _PARSE_DATA_DROPPED:
            continue
        if key == "text":
            parse_data[key] = whole_text_fn(value) if isinstance(value, str) else value
        elif key == "entities":
            parse_data[key] = _entities(value, text_fn)
        elif key == "metadata":
            parse_data[key] = copied.metadata
        elif key in ("intent", "intent_ranking"):
            parse_data[key] = _intent_names_masked(value)
        elif key in _PARSE_DATA_KEPT:
            parse_data[key] = deep_copy(value)
        else:  # anything a custom component added: ID and phone numbers masked
            parse_data[key] = map_strings(value, redact)
    copied.parse_data = parse_data
    return copied


def redacted_events(events: Sequence[Event], already_stored: int = 0,
                    stored_state: Optional[DialogueStateTracker] = None) -> List[Event]:
    """The events from index `already_stored` on, with personal data masked
    (copies of the events that change, the same objects otherwise). The
    conversation is replayed from its start to know, at each user message,
    whether the form was asking for the SMS code or the name; the events
    before `already_stored` are in the database already and only replayed.
    `stored_state`, a tracker holding the state after them (a copy, changed
    here), saves that replay when the new events start with a user message
    (nothing new then depends on the stored events but that state)."""
    if stored_state is not None and already_stored < len(events) and isinstance(events[already_stored], UserUttered):
        return _redacted_from(events, already_stored, stored_state, already_stored)
    return _redacted_from(events, 0, DialogueStateTracker("redaction-replay", None), already_stored)


def _redacted_from(events: Sequence[Event], first: int, replay: DialogueStateTracker,
                   already_stored: int) -> List[Event]:
    """redacted_events, replaying from `events[first]` on `replay` (the state before it)."""
    # The replay must not change the caller's events: applying an event can
    # change the latest user event (entities, featurization). Stored events
    # are replayed as they are (applying them again changes nothing), except
    # the last user message among them, which new events may still change.
    last_stored_user = max((i for i in range(first, min(already_stored, len(events)))
                            if isinstance(events[i], UserUttered)), default=-1)
    result: List[Event] = []
    turn_secrets: Set[str] = set()  # digits typed in this turn's code/password message
    for index in range(first, len(events)):
        event = events[index]
        if isinstance(event, UserUttered):
            secret_expected = replay.get_slot(REQUESTED_SLOT) in SECRET_PROMPTS
            if secret_expected or mentions_password(event.text):
                turn_secrets = _typed_digits(event.text) | _typed_digits(event.parse_data.get("text"))
            else:
                turn_secrets = set()
        if index < already_stored:
            replay.update(copied_message(event) if index == last_stored_user else event)
            continue
        if isinstance(event, UserUttered):
            copied = _redacted_user_event(event, secret_expected, replay.get_slot(REQUESTED_SLOT) == HOLDER_NAME)
        elif isinstance(event, SlotSet):
            copied = _redacted_slot_event(event, turn_secrets)
        elif isinstance(event, BotUttered):
            copied = copy.deepcopy(event)
            copied.text = map_strings(event.text, lambda s: _mask_echoes(redact(s), turn_secrets))
            copied.data = map_strings(event.data, lambda s: _mask_echoes(redact(s), turn_secrets))
            copied.metadata = _redacted_metadata(event.metadata)
        elif isinstance(event, EntitiesAdded):
            copied = copy.deepcopy(event)
            copied.entities = _entities(event.entities, lambda s: _mask_echoes(redact(s), turn_secrets))
        else:
            copied = event  # no text in it; its apply_to changes only the tracker
        result.append(copied)
        replay.update(copied)
    return result


def _redacted_slot_event(event: SlotSet, turn_secrets: Set[str]) -> SlotSet:
    if is_sealed(event.value):  # ciphertext only the action server can open: kept whole
        return event
    if event.key in SECRET_NAMES:
        fn = _secret_value
    else:
        fn = lambda s: _mask_echoes(redact(s), turn_secrets)  # noqa: E731
    value = event.value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and event.key in SECRET_NAMES:
        value = fn(str(value))
    copied = copy.copy(event)
    copied.value = map_strings(value, fn)
    copied.metadata = _redacted_metadata(event.metadata)
    return copied


def redacted_tracker(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """A shallow copy of `tracker` whose events are the redacted copies (the
    tracker itself, its events and their data are left untouched)."""
    clone = copy.copy(tracker)
    clone.events = deque(redacted_events(tracker.events), tracker.events.maxlen)
    return clone


def _sqlite_write_ahead_log(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a crash of the process loses nothing; a power cut may lose the last turns.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class RedactingTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that stores (and streams) only redacted events."""

    def __init__(
        self,
        domain: Optional[Any] = None,
        dialect: Text = "sqlite",
        host: Optional[Text] = None,
        port: Optional[int] = None,
        db: Text = "rasa.db",
        username: Optional[Text] = None,
        password: Optional[Text] = None,
        event_broker: Optional[Any] = None,
        login_db: Optional[Text] = None,
        query: Optional[Dict] = None,
        **kwargs: Any,
    ) -> None:
        bootstrap.install()  # Rasa may load this store first of our plug-ins
        super().__init__(
            domain=domain, dialect=dialect, host=host, port=port, db=db, username=username,
            password=password, event_broker=event_broker, login_db=login_db, query=query, **kwargs,
        )
        self.sessions = SessionCache()  # the sessions this process read or saved lately
        if self.engine.dialect.name == "sqlite":
            # Write-ahead log: a commit appends to the log instead of
            # rewriting and syncing the database file (each turn commits once).
            # Connections to a file are kept: SQLAlchemy's default opens, sets up
            # and closes one for every read and save, and closing the last one
            # writes the log back into the file and syncs it; the event loop
            # waited 20-25 ms of every save for the disk (28-31 ms a save, 6-9 now).
            url = self.engine.url
            self.engine.dispose()
            if url.database and url.database != ":memory:":
                self.engine = sa.create_engine(url, poolclass=sa.pool.QueuePool,
                                               connect_args={"check_same_thread": False})
                self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
            sa.event.listen(self.engine, "connect", _sqlite_write_ahead_log)
        else:
            # A database server that restarted leaves dead connections in the
            # pool: test each one as it is checked out, so the first turn after
            # an outage works instead of failing on a stale connection.
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        if self.event_broker is not None:  # brokers get redacted events too
            await super().stream_events(redacted_tracker(tracker))

    # --- reading and saving a conversation ------------------------------------------------------
    # Rasa reads a conversation's whole session and rebuilds it event by event at
    # every turn, and counts what is stored before saving: a turn cost more the
    # longer the conversation. Here the session this process last read or saved
    # is kept (bot.session_cache) and handed out again while the database's key
    # of the conversation says nothing changed since; only what a turn adds is
    # redacted, written and applied to the kept copy.

    # Plain SQL, run three times a turn: SQLAlchemy 1.4 walks a select() construct for its cache
    # key at every execution (a third of this statement's time), a text one it hardly does.
    _KEY = sa.text(f"SELECT count(id), max(id) FROM {SQLTrackerStore.SQLEvent.__tablename__} "
                   "WHERE sender_id = :sender_id")

    def _conversation_key(self, session: Any, sender_id: Text) -> Key:
        return tuple(session.execute(self._KEY, {"sender_id": sender_id}).one())

    def _read(self, session: Any, sender_id: Text, all_sessions: bool,
              up_to: Optional[int] = None) -> Optional[SessionTracker]:
        """Rasa's read (the latest session, or all), up to event id `up_to`."""
        query = self._event_query(session, sender_id, fetch_events_from_all_sessions=all_sessions)
        if up_to is not None:
            query = query.filter(self.SQLEvent.id <= up_to)
        rows = query.with_entities(self.SQLEvent.data).all()
        if not self.domain or not rows:
            return None
        events = deserialise_events(json.loads(data) for (data,) in rows)
        return SessionTracker.from_events(sender_id, events, self.domain.slots)

    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        with self.session_scope() as session:
            if fetch_events_from_all_sessions:
                return self._read(session, sender_id, True)
            key = self._conversation_key(session, sender_id)
            if key[0] == 0:  # nothing stored: a new (or erased) conversation
                self.sessions.drop(sender_id)
                return None
            kept = self.sessions.get(sender_id, key) or self._read(session, sender_id, False, up_to=key[1])
        if kept is None:
            return None
        kept.window = window_for(kept, kept.window)
        self.sessions.put(sender_id, key, kept)
        return clone(kept)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save: the events not stored yet, redacted, are added."""
        await self.stream_events(tracker)
        if not tracker.events:  # Rasa saves a new conversation's tracker before it has any: nothing to write
            return
        sender_id = tracker.sender_id
        with self.session_scope() as session:
            key = self._conversation_key(session, sender_id)
            kept = self.sessions.get(sender_id, key)
            if kept is not None:
                stored = len(kept.events)
            elif key[0] == 0:  # a new conversation
                stored = 0
            else:
                stored = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()
            events = redacted_events(list(tracker.events), already_stored=stored,
                                     stored_state=clone(kept) if kept is not None else None)
            rows = [self._row(sender_id, event) for event in events]
            if rows:
                # One INSERT of all the rows (the ORM's unit of work cost more than the writing), then
                # the conversation's new key: only this turn writes to it (the lock store).
                session.execute(self._INSERT, rows)
                key = self._conversation_key(session, sender_id)
            session.commit()
        self._keep_saved(sender_id, kept, key, [row["data"] for row in rows], new_conversation=stored == 0)

    _INSERT = SQLTrackerStore.SQLEvent.__table__.insert()

    @staticmethod
    def _row(sender_id: Text, event: Event) -> Dict[Text, Any]:
        """The row Rasa's save writes for an event."""
        data = event.as_dict()
        return dict(
            sender_id=sender_id, type_name=event.type_name, timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"), data=json.dumps(data),
        )

    def _keep_saved(self, sender_id: Text, kept: Optional[SessionTracker], key: Key, data: List[Text],
                    new_conversation: bool = False) -> None:
        """The kept session with the saved events applied (read back from what
        was written, as a later read would have them). A new conversation's
        first events are kept as the session a read would give; a conversation
        whose new session started is dropped (the next read is of the new,
        short one)."""
        events = deserialise_events(json.loads(item) for item in data)
        if kept is None and new_conversation and events and self.domain:
            # Rasa's read (_event_query): the events from the latest SessionStarted's timestamp on, or
            # all if none; nothing else is stored for the conversation, so these decide it.
            starts = [event.timestamp for event in events if isinstance(event, SessionStarted)]
            session = [event for event in events if event.timestamp >= max(starts)] if starts else events
            self.sessions.put(sender_id, key, SessionTracker.from_events(sender_id, session, self.domain.slots))
            return
        if kept is None or any(isinstance(event, SessionStarted) for event in events):
            self.sessions.drop(sender_id)
            return
        updated = clone(kept)
        for event in events:
            updated.update(event)
        self.sessions.put(sender_id, key, updated)

    @contextlib.contextmanager
    def session_scope(self) -> Iterator[Any]:
        """Rasa's, without its exit: Rasa ends the whole server on any
        ValueError inside a database session (it takes one for a missing
        PostgreSQL schema), and UnicodeEncodeError is one, so a sender id
        holding a lone surrogate killed the server (found by tests/fuzz). Here
        the error fails the turn like any other."""
        session = self.sessionmaker()
        try:
            ensure_schema_exists(session)
            yield session
        finally:
            session.close()

