"""Blocking database work for async handlers: SQLAlchemy's sessions block, so
each piece of work runs in a thread of a pool of its own, in one session.

sanic cancels a handler whose client disconnects; the thread's transaction
still finishes as a whole (committed or rolled back, never half done).
"""
from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Tuple

from bot.db import Database
from bot.http.errors import HttpError


class DatabaseWork:
    """`await work.read(fn, *args)` / `await work.write(fn, *args)` call
    `fn(session, *args)` in a thread; `close()` waits for what is running.
    A write that refuses (raises HttpError) is still committed: what it wrote
    before it refused, e.g. a counted failed attempt, is kept."""

    def __init__(self, db: Database, threads: int, name: str) -> None:
        self.db = db
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, functools.partial(fn, *args))

    async def read(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self.run(self._read, fn, args)

    async def write(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self.run(self._write, fn, args)

    def _read(self, fn: Callable[..., Any], args: Tuple[Any, ...]) -> Any:
        with self.db.read() as session:
            return fn(session, *args)

    def _write(self, fn: Callable[..., Any], args: Tuple[Any, ...]) -> Any:
        with self.db.write() as session:
            try:
                result = fn(session, *args)
            except HttpError:
                session.commit()
                raise
            session.commit()
            return result

    def close(self) -> None:
        self._executor.shutdown(wait=True)
