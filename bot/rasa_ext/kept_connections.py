"""The Rasa server calls the action server over connections it keeps open.

Rasa 3.6's `EndpointConfig.request` enters `async with self.session()`: a new
aiohttp session, and so a new TCP connection, for every call. A form turn
makes two or three action calls, each paying for a session, a connect and the
action server's accepting a connection. Here `EndpointConfig.session` hands out
one session per event loop and endpoint settings, which `async with` no longer closes;
the Rasa server closes them when it stops (`install`).

Idle connections are dropped after IDLE_SECONDS, under sanic's keep-alive
timeout (5 s, the action server's): this side never reuses a connection the
server is closing at that moment.
"""
from __future__ import annotations

import asyncio
import weakref
from typing import Any, Callable, Dict, Tuple

import aiohttp

IDLE_SECONDS = 2.0

# Each event loop's sessions by what they are made with (the endpoint's headers and basic auth:
# Rasa passes the rest with each request). A model reload's new endpoint with the same settings
# gets the same session; a loop that is gone takes its entry with it.
_sessions: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Dict[Tuple[Any, ...], aiohttp.ClientSession]]" = \
    weakref.WeakKeyDictionary()


class _Kept:
    """What `async with` enters instead of the session itself: leaving it keeps the session open."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *exc_info: Any) -> None:
        return None


def kept_session(original: Callable) -> Callable:
    """EndpointConfig.session (`original` builds a session as Rasa does) handing out kept ones."""

    def session(self: Any) -> _Kept:
        sessions = _sessions.setdefault(asyncio.get_running_loop(), {})
        settings = (tuple(sorted((self.headers or {}).items())), tuple(sorted((self.basic_auth or {}).items())))
        kept = sessions.get(settings)
        if kept is None or kept.closed:
            made = original(self)
            # The same session Rasa builds (headers, auth, timeout), on a connector that keeps connections.
            connector = aiohttp.TCPConnector(keepalive_timeout=IDLE_SECONDS)
            kept = sessions[settings] = aiohttp.ClientSession(headers=made.headers, auth=made.auth,
                                                              timeout=made.timeout, connector=connector)
            asyncio.get_running_loop().create_task(made.close())  # it holds no connection; closed as Rasa would
        return _Kept(kept)

    return session


async def close_sessions(*_: Any) -> None:
    """Closes the sessions of the running loop (a sanic listener)."""
    for kept in _sessions.pop(asyncio.get_running_loop(), {}).values():
        await kept.close()


def install(app: Any) -> None:
    """The Rasa server's action calls over kept connections, closed when `app` stops."""
    from bot.rasa_ext import bootstrap

    bootstrap.Patch("rasa.utils.endpoints.EndpointConfig", "session", kept_session).apply()
    app.register_listener(close_sessions, "after_server_stop")
