"""How many chat messages one session may send: a token bucket per session.

A person types a message every few seconds; a script hammering the chat API
(each message costs a Rasa turn) gets 429 with Retry-After. The buckets live
in the web process: with several web replicas each allows the rate (the
replicas then share the load anyway).
"""
from __future__ import annotations

import time
from collections import OrderedDict
from typing import Callable, Optional

MESSAGES_PER_MINUTE = 20
BURST = 8  # messages sent back to back (quick replies clicked in a row)
MAX_TRACKED = 100_000  # sessions remembered; the least recently active are forgotten first


class RateLimit:
    def __init__(self, per_minute: float = MESSAGES_PER_MINUTE, burst: int = BURST,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = per_minute / 60.0, burst, clock
        self.buckets: "OrderedDict[str, tuple]" = OrderedDict()  # key -> (tokens, at)

    def wait(self, key: str) -> Optional[float]:
        """None when `key` may send now (and it is counted); else the seconds to wait."""
        now = self.clock()
        tokens, at = self.buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        allowed = tokens >= 1.0
        self.buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        if len(self.buckets) > MAX_TRACKED:
            self.buckets.popitem(last=False)
        return None if allowed else (1.0 - tokens) / self.rate
