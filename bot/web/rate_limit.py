"""Per-session and per-address limits on the chat API: token buckets.

A person types a message every few seconds; a script hammering the chat API
(each message costs a Rasa turn) or minting sessions gets 429 with
Retry-After, which the widget explains. The limits per address are generous
(an office or a mobile carrier puts many citizens behind one address) and
exist against floods; hand-offs are limited by the card backend, per
conversation and per address (bot/backend/service.py open_ticket).

The buckets live in bot/web/shared_state.py: in Redis when REDIS_URL is set,
so that every web replica counts the same ones.
"""
from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Optional

from bot.core.opaque import hasher
from bot.web.http import WebError
from bot.web.shared_state import take_from

MESSAGES_PER_MINUTE = 20
BURST = 8  # messages sent back to back (quick replies clicked in a row)
MAX_TRACKED = 100_000  # sessions remembered; the least recently active are forgotten first


@dataclass(frozen=True)
class Rule:
    name: str
    per_minute: float
    burst: int
    code: str
    message: str


TOO_FAST = "Too many messages in a short time; wait a moment."
SESSION_TURNS = Rule("session-turns", MESSAGES_PER_MINUTE, BURST, "too_many_messages", TOO_FAST)
ADDRESS_TURNS = Rule("address-turns", 120, 60, "too_many_messages", TOO_FAST)
# The long poll (GET /api/chat/updates): the widget asks again at once after
# each answer, i.e. a few times a minute, more while staff and citizen talk.
SESSION_POLLS = Rule("session-polls", 60, 30, "too_many_requests", "Too many requests in a short time; wait a moment.")
NEW_SESSIONS = Rule("new-sessions", 1, 20, "too_many_sessions",
                    "Too many new chats from your network in a short time; wait a moment.")


class RateLimit:
    """One rule's buckets in this process, with a clock of the caller's (unit tests)."""

    def __init__(self, per_minute: float = MESSAGES_PER_MINUTE, burst: int = BURST,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = per_minute / 60.0, burst, clock
        self.buckets: "OrderedDict[str, tuple]" = OrderedDict()  # key -> (tokens, at)

    def wait(self, key: str) -> Optional[float]:
        """None when `key` may go now (and it is counted); else the seconds to wait."""
        now = self.clock()
        tokens, at = self.buckets.pop(key, (float(self.burst), now))
        tokens, wait = take_from(tokens, at, self.rate, self.burst, now)
        self.buckets[key] = (tokens, now)
        if len(self.buckets) > MAX_TRACKED:
            self.buckets.popitem(last=False)
        return wait


class Limiter:
    """The rules above over a shared state (memory or Redis); keys are HMACs
    of who is counted, so neither an address nor a session id is stored."""

    def __init__(self, state, secret_key: str, clock: Callable[[], float] = time.time, factor: int = 1) -> None:
        self.state, self.clock, self.factor = state, clock, factor
        self.opaque = hasher(secret_key)  # a keyed hash standing for an address, a session (bot/core/opaque.py)

    def key(self, rule: Rule, who: str) -> str:
        return f"limit:{rule.name}:{self.opaque(who)}"

    async def check(self, rule: Rule, who: str) -> None:
        """Counts one request of `who`; 429 with Retry-After when over the rule."""
        wait = await self.state.take(self.key(rule, who), rule.per_minute * self.factor / 60.0,
                                     rule.burst * self.factor, self.clock())
        if wait is not None:
            # Rounded up: a client that waits exactly this long must get through.
            raise WebError(429, rule.code, rule.message, {"Retry-After": str(max(1, math.ceil(wait)))})
