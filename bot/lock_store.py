"""The conversation lock store: in-process alone, Redis when replicas share it.

endpoints.yml:

    lock_store:
      type: bot.lock_store.SharedLockStore

With REDIS_URL empty (one Rasa process, `make run`) the locks live in the
process, like Rasa's InMemoryLockStore. With REDIS_URL set (several Rasa
replicas, `make cluster`) they live in Redis, like Rasa's RedisLockStore, but
every read-modify-write of a lock (issuing a ticket, finishing one, dropping
expired ones) is one optimistic Redis transaction (WATCH/MULTI): Rasa's own
Redis store reads, changes and writes the lock in three steps, so two replicas
handling the same conversation at the same moment can both get "the first
ticket" or bring a finished ticket back, which either runs two turns at once
or stalls the conversation until the ticket expires (60 s).

Waiting for a lock also differs: Rasa drops every expired ticket while a turn
waits, its own included, and a turn whose own ticket is gone waits forever
(an empty lock "serves" ticket 0). That happens to the next message of a
conversation whose turn died with its replica: it waits for the dead ticket
to expire, and its own, issued a moment later, expires within the same poll.
Here a waiting turn never loses its own ticket, and it does not wait for
Rasa's next look a second later: a turn of this process that finishes its
ticket wakes the turns waiting for the lock (in Redis, another replica's
turn is seen within REDIS_POLL_SECONDS).
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from typing import Callable, Dict, Optional, Text
from urllib.parse import urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX, LOCK_LIFETIME, LockError, LockStore

from bot.core.settings import resolved
from bot.rasa_ext import bootstrap

log = logging.getLogger(__name__)

KEY_PREFIX = "helpdesk:" + DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX
SOCKET_TIMEOUT_SECONDS = 5
# Rasa looks at a lock it waits for once a second: a second message of a conversation
# (a WeChat retry, a double click) waited up to a second after the first one's turn.
# Here a turn of this process wakes its waiters when it ends; in Redis, a turn of
# another replica is seen within this.
REDIS_POLL_SECONDS = 0.05
MAX_TRANSACTION_RETRIES = 50


class SharedLockStore(LockStore):
    def __init__(self, endpoint_config=None, redis_url: Optional[str] = None) -> None:
        bootstrap.install()  # Rasa may load this store first of our plug-ins
        url = resolved()["REDIS_URL"] if redis_url is None else redis_url
        self.redis = None
        self.local = {}
        self._released: Dict[Text, asyncio.Event] = {}  # conversation -> set when one of its tickets is finished
        if url:
            import redis

            self.redis = redis.Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT_SECONDS)
            parts = urlsplit(url)
            log.info("conversation locks in Redis at %s:%s", parts.hostname, parts.port or 6379)
        super().__init__()

    # --- the three primitives Rasa's LockStore builds on -----------------------------------

    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        if self.redis is None:
            return self.local.get(conversation_id)
        serialised = self.redis.get(KEY_PREFIX + conversation_id)
        return TicketLock.from_dict(json.loads(serialised)) if serialised else None

    def delete_lock(self, conversation_id: Text) -> None:
        if self.redis is None:
            self.local.pop(conversation_id, None)
        else:
            self.redis.delete(KEY_PREFIX + conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        if self.redis is None:
            self.local[lock.conversation_id] = lock
        else:
            self.redis.set(KEY_PREFIX + lock.conversation_id, lock.dumps())

    # --- read-modify-write, atomic in Redis -----------------------------------------------

    def _change(self, conversation_id: Text, change: Callable[[Optional[TicketLock]], Optional[TicketLock]]):
        """Applies `change` to the stored lock (None: none stored) and stores
        what it returns (None: delete). In Redis the read and the write are one
        transaction, retried when another replica changed the lock in between."""
        if self.redis is None:  # one event loop, no await in between: already atomic
            lock = change(self.get_lock(conversation_id))
            if lock is None:
                self.delete_lock(conversation_id)
            else:
                self.save_lock(lock)
            return lock
        import redis

        key = KEY_PREFIX + conversation_id
        for _ in range(MAX_TRANSACTION_RETRIES):
            with self.redis.pipeline() as pipe:
                try:
                    pipe.watch(key)
                    serialised = pipe.get(key)
                    lock = change(TicketLock.from_dict(json.loads(serialised)) if serialised else None)
                    pipe.multi()
                    if lock is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, lock.dumps())
                    pipe.execute()
                    return lock
                except redis.WatchError:
                    continue
        raise LockError(f"the lock of conversation {conversation_id!r} kept changing; gave up")

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        issued = []

        def add_ticket(lock: Optional[TicketLock]) -> TicketLock:
            lock = lock or self.create_lock(conversation_id)
            issued.append(lock.issue_ticket(lock_lifetime))
            return lock

        try:
            self._change(conversation_id, add_ticket)
        except LockError:
            raise
        except Exception as error:  # Redis unreachable: Rasa turns LockError into a clear failure
            raise LockError(f"Error while acquiring lock. Error:\n{error}")
        return issued[-1]

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        def remove(lock: Optional[TicketLock]) -> Optional[TicketLock]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock

        self._change(conversation_id, remove)
        self._wake(conversation_id)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Finishes the ticket, and deletes the lock if nobody else waits, in one step."""
        def remove(lock: Optional[TicketLock]) -> Optional[TicketLock]:
            if lock is None:
                return None
            lock.remove_ticket_for(ticket_number)
            return lock if lock.is_someone_waiting() else None

        self._change(conversation_id, remove)
        self._wake(conversation_id)

    def _wake(self, conversation_id: Text) -> None:
        """A ticket was finished: turns of this process waiting for the lock look again now."""
        released = self._released.pop(conversation_id, None)
        if released is not None:
            released.set()

    async def _wait(self, conversation_id: Text, seconds: float) -> None:
        """Until a ticket of the conversation is finished in this process, or
        `seconds` (expired tickets; in Redis, another replica's turn, looked for
        every REDIS_POLL_SECONDS)."""
        if self.redis is not None:
            seconds = min(seconds, REDIS_POLL_SECONDS)
        released = self._released.setdefault(conversation_id, asyncio.Event())
        try:
            await asyncio.wait_for(released.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    async def _acquire_lock(self, conversation_id: Text, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        def drop_others_expired(lock: Optional[TicketLock]) -> Optional[TicketLock]:
            if lock is not None:
                lock.tickets = deque(t for t in lock.tickets if t.number == ticket or not t.has_expired())
            return lock

        while True:
            lock = self.get_lock(conversation_id)
            # Not lock.is_locked(ticket): asking it drops expired tickets, ours too.
            numbers = [t.number for t in lock.tickets] if lock is not None else []
            if ticket not in numbers:
                raise LockError(f"the lock of conversation {conversation_id!r} lost ticket {ticket}")
            if numbers[0] == ticket:
                return lock
            await self._wait(conversation_id, wait_time_in_seconds)
            self._change(conversation_id, drop_others_expired)

    def update_lock(self, conversation_id: Text) -> None:
        def drop_expired(lock: Optional[TicketLock]) -> Optional[TicketLock]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock

        self._change(conversation_id, drop_expired)
