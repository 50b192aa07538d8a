"""Waiting for a condition instead of sleeping a fixed time: fast when the
machine is fast, patient (generous timeouts) when two busy cores are slow."""
from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable, TypeVar

T = TypeVar("T")

TIMEOUT = 60.0  # far beyond any wait on a busy 2-core machine: a timeout means it never happens


def wait_until(condition: Callable[[], T], what: str, timeout: float = TIMEOUT, interval: float = 0.05) -> T:
    """The first truthy value of `condition()`; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}; last value: {value!r}")
        time.sleep(interval)


async def wait_until_async(condition: Callable[[], "T | Awaitable[T]"], what: str, timeout: float = TIMEOUT,
                           interval: float = 0.02) -> T:
    """The same inside an event loop (the condition may be a coroutine function)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}; last value: {value!r}")
        await asyncio.sleep(interval)
