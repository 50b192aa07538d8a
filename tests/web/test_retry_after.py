"""Retry-After is a promise: a client refused by the chat limits that waits
exactly the seconds it was told is let through (bot/web/rate_limit.py,
Limiter over the in-process state, with a clock of the test's). Rounded to
the nearest second, a wait of 2.4 s became "2" and the client was refused
again."""
import pytest

from bot.web.http import WebError
from bot.web.rate_limit import SESSION_TURNS, Limiter
from bot.web.shared_state import MemoryState


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def refused(limiter: Limiter, who: str) -> int:
    """The Retry-After of the refusal `who`'s next message gets."""
    with pytest.raises(WebError) as refusal:
        await limiter.check(SESSION_TURNS, who)
    assert refusal.value.status == 429
    return int(refusal.value.headers["Retry-After"])


@pytest.mark.parametrize("tenths", range(0, 30))  # the refused message comes 0.0 .. 2.9 s after the burst
async def test_waiting_exactly_retry_after_is_enough(tenths):
    clock = Clock()
    limiter = Limiter(MemoryState(), "test-secret", clock=clock)
    for _ in range(SESSION_TURNS.burst):
        await limiter.check(SESSION_TURNS, "session")
    clock.now += tenths / 10
    seconds = await refused(limiter, "session")
    assert seconds >= 1
    clock.now += seconds
    await limiter.check(SESSION_TURNS, "session")  # raises if refused again


async def test_retry_after_is_no_longer_than_the_wait_rounded_up():
    clock = Clock()
    limiter = Limiter(MemoryState(), "test-secret", clock=clock)
    for _ in range(SESSION_TURNS.burst):
        await limiter.check(SESSION_TURNS, "session")
    clock.now += 0.5  # 20 a minute: one message every 3 s, 2.5 s to go
    assert await refused(limiter, "session") == 3
