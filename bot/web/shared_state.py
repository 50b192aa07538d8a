"""What web replicas must agree on: token buckets (bot/web/rate_limit.py),
chat sessions ended by "new chat" (bot/web/chat.py), marks that a conversation
has had a hand-over to a person, and each such conversation's version counter
(bot/web/handoff_state.py: bumped by whoever appends to the conversation, the
long poll GET /api/chat/updates watches it).

With REDIS_URL set it lives in Redis, so every web process behind the load
balancer counts the same buckets; without it, in this process (one web
process, as `make run` starts). Keys are opaque: callers pass HMACs, never an
address or a session id in clear.

If Redis cannot be reached the web process keeps serving (limits not applied,
ended sessions not known, versions read as 0: a long poll then waits its
whole time and the widget's next poll catches up) and logs a warning: a Redis outage must not take the
chat down with it.
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Dict, Optional

log = logging.getLogger("bot.web.shared_state")

PREFIX = "helpdesk:web:"
MAX_TRACKED = 100_000  # in-process: keys remembered; the least recently used are forgotten first
VERSION_SECONDS = 24 * 60 * 60  # a version counter is forgotten a day after its last bump

# A token bucket, atomically: refill by elapsed time, take one token if there
# is one. Returns "" when allowed, else the seconds until a token is back (as
# text: Lua numbers become integers on the way out).
_TAKE = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens, at = tonumber(v[1]) or burst, tonumber(v[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = tokens >= 1
if allowed then tokens = tokens - 1 end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
if allowed then return '' end
return tostring((1 - tokens) / rate)
"""


def take_from(tokens: float, at: float, rate: float, burst: int, now: float):
    """(tokens left, wait or None): the same arithmetic as _TAKE, for the in-process store."""
    tokens = min(float(burst), tokens + max(0.0, now - at) * rate)
    if tokens >= 1.0:
        return tokens - 1.0, None
    return tokens, (1.0 - tokens) / rate


class MemoryState:
    def __init__(self) -> None:
        self.buckets: "OrderedDict[str, tuple]" = OrderedDict()  # key -> (tokens, at)
        self.marks: Dict[str, float] = {}  # key -> until
        self.versions: "OrderedDict[str, int]" = OrderedDict()  # key -> version

    async def take(self, key: str, rate: float, burst: int, now: float) -> Optional[float]:
        tokens, at = self.buckets.pop(key, (float(burst), now))
        tokens, wait = take_from(tokens, at, rate, burst, now)
        self.buckets[key] = (tokens, now)
        if len(self.buckets) > MAX_TRACKED:
            self.buckets.popitem(last=False)
        return wait

    async def mark(self, key: str, seconds: int) -> None:
        now = time.time()
        if len(self.marks) > MAX_TRACKED:
            self.marks = {k: until for k, until in self.marks.items() if until > now}
        self.marks[key] = now + seconds

    async def marked(self, key: str) -> bool:
        return self.marks.get(key, 0.0) > time.time()

    async def bump(self, key: str) -> int:
        """The key's version counter plus one (the new version)."""
        version = self.versions.pop(key, 0) + 1
        self.versions[key] = version
        if len(self.versions) > MAX_TRACKED:
            self.versions.popitem(last=False)
        return version

    async def version(self, key: str) -> int:
        """The key's version counter: 0 until bumped."""
        return self.versions.get(key, 0)

    async def close(self) -> None:
        pass


class RedisState:
    def __init__(self, url: str) -> None:
        import redis.asyncio

        self.redis = redis.asyncio.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._take = self.redis.register_script(_TAKE)

    async def take(self, key: str, rate: float, burst: int, now: float) -> Optional[float]:
        try:
            answer = await self._take(keys=[PREFIX + key], args=[repr(rate), burst, repr(now)])
        except Exception as error:  # redis.RedisError, OSError, timeouts: serve anyway
            log.warning("redis unavailable for a rate limit: %s", type(error).__name__)
            return None
        answer = answer.decode() if isinstance(answer, bytes) else answer
        return float(answer) if answer else None

    async def mark(self, key: str, seconds: int) -> None:
        try:
            await self.redis.set(PREFIX + key, b"1", ex=max(1, seconds))
        except Exception as error:
            log.warning("redis unavailable to end a session: %s", type(error).__name__)

    async def marked(self, key: str) -> bool:
        try:
            return bool(await self.redis.exists(PREFIX + key))
        except Exception as error:
            log.warning("redis unavailable to check a session: %s", type(error).__name__)
            return False

    async def bump(self, key: str) -> int:
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                version, _ = await pipe.incr(PREFIX + key).expire(PREFIX + key, VERSION_SECONDS).execute()
            return int(version)
        except Exception as error:
            log.warning("redis unavailable to bump a version: %s", type(error).__name__)
            return 0

    async def version(self, key: str) -> int:
        try:
            value = await self.redis.get(PREFIX + key)
        except Exception as error:
            log.warning("redis unavailable to read a version: %s", type(error).__name__)
            return 0
        return int(value) if value else 0

    async def close(self) -> None:
        await self.redis.close()


def open_state(redis_url: str):
    return RedisState(redis_url) if redis_url else MemoryState()
