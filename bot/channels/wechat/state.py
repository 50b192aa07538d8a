"""What the WeChat channel remembers between requests, in memory or in Redis.

- Message outcomes, for de-duplication: WeChat retries a message it got no
  answer to (up to three times), and the retry must not run the turn again.
  `claim` marks a message in flight (only the first caller gets True);
  `set_outcome` records how it ended: the reply text, or "handed off" (the
  answer goes by the customer-service API, so a retry gets `success`).
- Each user's last numbered options (the assistant's buttons).
- Each user's undelivered parts of a long answer ("继续" / "more").
- The customer-service API's access token, shared by replicas (each new
  token WeChat issues invalidates the previous one after five minutes).
- Each signed URL's nonce (with its timestamp), bound to a digest of the
  body it first came with, until the timestamp leaves the accepted window:
  a signed URL carries one message only (docs/WECHAT.md, "Replays").
- Which followers had a live hand-over to a person lately (24 h): only their
  messages make the channel ask the card backend whether a person holds the
  conversation (bot/channels/wechat/handoff.py).

Several Rasa replicas must share this: `REDIS_URL` selects `RedisState`;
without it, `MemoryState` (bounded, expiring) serves one process. Keys never
contain an OpenID in clear: identifiers are hashed.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Tuple

from bot.channels.wechat.rendering import Option

MESSAGE_TTL_SECONDS = 300  # WeChat's retries come within ~15 s; a replayed request is older than 5 min
USER_TTL_SECONDS = 1800  # options and parts older than half an hour are stale
HANDOFF_TTL_SECONDS = 24 * 3600  # a hand-over's marker: consult the backend for a day after the last sign of it
POLL_SECONDS = 0.1

PENDING = "pending"
REPLIED = "replied"
HANDED_OFF = "handed_off"

# What use_nonce found: a nonce not seen yet, seen with the same body, or seen with another body.
NONCE_NEW = "new"
NONCE_SAME_MESSAGE = "same message"
NONCE_OTHER_MESSAGE = "other message"


@dataclass(frozen=True)
class Outcome:
    status: str  # PENDING, REPLIED or HANDED_OFF
    text: str = ""  # the reply, when REPLIED ("" means `success`)

    def dumps(self) -> str:
        return json.dumps({"status": self.status, "text": self.text}, ensure_ascii=False)

    @classmethod
    def loads(cls, raw: Optional[str]) -> Optional["Outcome"]:
        if raw is None:
            return None
        data = json.loads(raw)
        return cls(data["status"], data.get("text", ""))


def hashed(identifier: str) -> str:
    """A stable key part for an OpenID (or a message id containing one)."""
    return hashlib.sha256(identifier.encode("utf-8")).hexdigest()[:32]


class ChannelState(ABC):
    """The interface the channel uses; identifiers are hashed before storage."""

    @abstractmethod
    async def _set(self, key: str, value: str, ttl: float, only_if_new: bool = False) -> bool: ...

    @abstractmethod
    async def _get(self, key: str) -> Optional[str]: ...

    @abstractmethod
    async def _delete(self, key: str) -> None: ...

    @abstractmethod
    async def _replace_list(self, key: str, values: List[str], ttl: float) -> None: ...

    @abstractmethod
    async def _pop_first(self, key: str) -> Optional[str]: ...

    async def close(self) -> None:
        pass

    # message de-duplication
    async def claim(self, message_id: str) -> bool:
        """True for the first caller of a message id (it runs the turn)."""
        return await self._set(
            "msg:" + hashed(message_id), Outcome(PENDING).dumps(), MESSAGE_TTL_SECONDS, only_if_new=True
        )

    async def set_outcome(self, message_id: str, outcome: Outcome) -> None:
        await self._set("msg:" + hashed(message_id), outcome.dumps(), MESSAGE_TTL_SECONDS)

    async def outcome(self, message_id: str) -> Optional[Outcome]:
        return Outcome.loads(await self._get("msg:" + hashed(message_id)))

    async def wait_outcome(self, message_id: str, timeout: float) -> Optional[Outcome]:
        """The outcome once it is no longer pending, or the last seen (None,
        pending) when `timeout` runs out."""
        deadline = time.monotonic() + timeout
        while True:
            outcome = await self.outcome(message_id)
            if outcome is None or outcome.status != PENDING or time.monotonic() >= deadline:
                return outcome
            await asyncio.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))

    # signed URLs
    async def use_nonce(self, signed: str, body_digest: str, ttl: float) -> str:
        """Binds `signed` (timestamp and nonce of a request's URL) to the body
        it came with, for `ttl` seconds; says whether it was new, or seen
        before with the same body or with another one."""
        key = "nonce:" + hashed(signed)
        if await self._set(key, body_digest, ttl, only_if_new=True):
            return NONCE_NEW
        first = await self._get(key)
        if first is None:  # expired between the two calls: a new window
            return NONCE_NEW if await self._set(key, body_digest, ttl, only_if_new=True) else NONCE_OTHER_MESSAGE
        return NONCE_SAME_MESSAGE if first == body_digest else NONCE_OTHER_MESSAGE

    # numbered options
    async def set_options(self, openid: str, options: List[Option]) -> None:
        key = "options:" + hashed(openid)
        if options:
            await self._set(key, json.dumps([list(o) for o in options], ensure_ascii=False), USER_TTL_SECONDS)
        else:
            await self._delete(key)

    async def options(self, openid: str) -> List[Option]:
        raw = await self._get("options:" + hashed(openid))
        return [Option(title, payload) for title, payload in json.loads(raw)] if raw else []

    # parts of a long answer
    async def set_parts(self, openid: str, parts: List[str]) -> None:
        await self._replace_list("parts:" + hashed(openid), parts, USER_TTL_SECONDS)

    async def next_part(self, openid: str) -> Optional[str]:
        return await self._pop_first("parts:" + hashed(openid))

    async def forget_options_and_parts(self, openid: str) -> None:
        """A member of staff wrote to the follower: a number or "继续" now answers them."""
        await self._delete("options:" + hashed(openid))
        await self._replace_list("parts:" + hashed(openid), [], USER_TTL_SECONDS)

    # the hand-over marker
    async def mark_handoff(self, openid: str) -> None:
        await self._set("handoff:" + hashed(openid), "1", HANDOFF_TTL_SECONDS)

    async def handoff_marked(self, openid: str) -> bool:
        return await self._get("handoff:" + hashed(openid)) is not None

    async def forget_handoff(self, openid: str) -> None:
        await self._delete("handoff:" + hashed(openid))

    # the customer-service API's access token
    async def access_token(self, app_id: str) -> Optional[str]:
        return await self._get("token:" + app_id)

    async def set_access_token(self, app_id: str, token: str, ttl: float) -> None:
        await self._set("token:" + app_id, token, ttl)

    async def forget_access_token(self, app_id: str) -> None:
        await self._delete("token:" + app_id)


class MemoryState(ChannelState):
    """One process's state: at most `max_entries` keys, each expiring."""

    def __init__(self, max_entries: int = 10000, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: "OrderedDict[str, Tuple[float, Any]]" = OrderedDict()
        self._max_entries = max_entries
        self._clock = clock

    def _live(self, key: str) -> Optional[Any]:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[key]
            return None
        return entry[1]

    def _store(self, key: str, value: Any, ttl: float) -> None:
        self._entries.pop(key, None)
        self._entries[key] = (self._clock() + ttl, value)
        now = self._clock()
        while self._entries:  # expired entries first, then the oldest beyond the bound
            oldest_key, (expires, _) = next(iter(self._entries.items()))
            if expires > now and len(self._entries) <= self._max_entries:
                break
            del self._entries[oldest_key]

    async def _set(self, key: str, value: str, ttl: float, only_if_new: bool = False) -> bool:
        if only_if_new and self._live(key) is not None:
            return False
        self._store(key, value, ttl)
        return True

    async def _get(self, key: str) -> Optional[str]:
        return self._live(key)

    async def _delete(self, key: str) -> None:
        self._entries.pop(key, None)

    async def _replace_list(self, key: str, values: List[str], ttl: float) -> None:
        if values:
            self._store(key, list(values), ttl)
        else:
            self._entries.pop(key, None)

    async def _pop_first(self, key: str) -> Optional[str]:
        values = self._live(key)
        if not values:
            return None
        first = values.pop(0)
        if not values:
            del self._entries[key]
        return first


class RedisState(ChannelState):
    """State shared by replicas through Redis, every key under `prefix`."""

    def __init__(self, url: str, prefix: str = "helpdesk:wechat:") -> None:
        import redis.asyncio

        self._redis = redis.asyncio.from_url(url, decode_responses=True)
        self._prefix = prefix

    async def _set(self, key: str, value: str, ttl: float, only_if_new: bool = False) -> bool:
        done = await self._redis.set(self._prefix + key, value, px=max(1, int(ttl * 1000)), nx=only_if_new)
        return bool(done)

    async def _get(self, key: str) -> Optional[str]:
        return await self._redis.get(self._prefix + key)

    async def _delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def _replace_list(self, key: str, values: List[str], ttl: float) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._prefix + key)
            if values:
                pipe.rpush(self._prefix + key, *values)
                pipe.pexpire(self._prefix + key, int(ttl * 1000))
            await pipe.execute()

    async def _pop_first(self, key: str) -> Optional[str]:
        return await self._redis.lpop(self._prefix + key)

    async def close(self) -> None:
        await self._redis.close()


def state_for(redis_url: str) -> ChannelState:
    return RedisState(redis_url) if redis_url else MemoryState()
