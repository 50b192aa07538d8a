"""Turns are served first come, first served, and a full queue says so at once.

A turn is mostly synchronous work on the Rasa server's one event loop (NLU,
policies, the tracker store): while it runs nothing else does, and which of
the waiting requests runs next was left to the event loop and sanic. Measured
with 50 citizens on keep-alive connections, one turn in twenty waited fifteen
times the median while others went round again and again (README, benchmarks).
Here every turn (REST, WeChat: all go through `Agent.handle_message`) takes a
place in one queue in the order its request reached the server, and at most
CONCURRENT_TURNS run at once (a turn waiting for the action server lets another
one run). The queue holds at most MAX_WAITING turns: past that a turn is
refused at once with TurnsQueueFull, which the channels answer as a failed
turn (the REST channel: 503 "please send it again", with Retry-After from
here; WeChat: its own "send it again" reply) instead of a wait nobody sees the
end of.
"""
from __future__ import annotations

import asyncio
import contextvars
import math
import time
from collections import deque
from contextlib import asynccontextmanager
from functools import wraps
from typing import Any, AsyncIterator, Callable, Deque, Optional

CONCURRENT_TURNS = 4
# About 4 s of turns at 50 turns a second: a citizen waiting longer than that is
# better told to send the message again (the widget and WeChat do it for them).
MAX_WAITING = 200


class TurnsQueueFull(RuntimeError):
    """The queue is full: the turn was not run; send it again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many turns waiting; retry after {retry_after} s")
        self.retry_after = retry_after


class TurnQueue:
    def __init__(self, concurrent: int = CONCURRENT_TURNS, max_waiting: int = MAX_WAITING) -> None:
        self.concurrent, self.max_waiting = concurrent, max_waiting
        self.running = 0
        self._waiting: Deque[asyncio.Future] = deque()
        self._turn_seconds = 0.05  # a running mean of how long a turn takes, for Retry-After

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def retry_after(self) -> int:
        """Seconds until the turns waiting now have run, rounded up."""
        return max(1, math.ceil(self.waiting * self._turn_seconds / self.concurrent))

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Waits for this turn's place (first come, first served), then holds it."""
        if self.running >= self.concurrent or self._waiting:
            if len(self._waiting) >= self.max_waiting:
                raise TurnsQueueFull(self.retry_after())
            place = asyncio.get_running_loop().create_future()
            self._waiting.append(place)
            try:
                await place  # set by the turn that hands its place over
            except asyncio.CancelledError:  # the client went away while waiting
                if place.done() and not place.cancelled():
                    self._hand_over()  # it had been given a place: pass it on
                else:
                    self._waiting.remove(place)
                raise
        else:
            self.running += 1
        started = time.monotonic()
        try:
            yield
        finally:
            self._turn_seconds = 0.9 * self._turn_seconds + 0.1 * (time.monotonic() - started)
            self._hand_over()

    def _hand_over(self) -> None:
        """The place of a turn that ended goes to the first one waiting."""
        while self._waiting:
            place = self._waiting.popleft()
            if not place.done():
                place.set_result(None)
                return
        self.running -= 1


# --- in the Rasa server ------------------------------------------------------------------------------

_queue: Optional[TurnQueue] = None
_refused: contextvars.ContextVar[Optional[int]] = contextvars.ContextVar("turn_refused", default=None)


def queue() -> TurnQueue:
    """The Rasa server's queue (one per process; made on first use, inside its event loop)."""
    global _queue
    if _queue is None:
        _queue = TurnQueue()
    return _queue


def queued(handle_message: Callable) -> Callable:
    """Agent.handle_message, run in its place in the queue."""

    @wraps(handle_message)
    async def handle_message_in_turn(self: Any, message: Any) -> Any:
        try:
            async with queue().turn():
                return await handle_message(self, message)
        except TurnsQueueFull as full:
            _refused.set(full.retry_after)  # seen by the response middleware of the same request
            raise

    return handle_message_in_turn


async def add_retry_after(request: Any, response: Any) -> None:
    """Response middleware: a turn the full queue refused is answered with Retry-After."""
    retry_after = _refused.get()
    if retry_after is not None and response is not None and response.status == 503:
        response.headers["Retry-After"] = str(retry_after)
