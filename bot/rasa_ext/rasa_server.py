"""`python -m bot.rasa_ext.rasa_server ARGS`: Rasa's `rasa ARGS` (e.g. `run ...`), hardened.

- The API token comes from the environment (RASA_AUTH_TOKEN), not from the
  command line, where `ps` shows it to every local user: it is put into
  this process's own argument list in memory (what `/proc/<pid>/cmdline`
  shows is the list the process was started with).
- Rasa's HTTP API also accepts the token as `Authorization: Bearer <token>`
  (Rasa itself reads only `?token=`, which proxies write into their logs).
- Requests go through our request class (bot/http/request.py: a negative or
  malformed Content-Length makes sanic 21.12 spin forever) and bodies are
  limited to MAX_BODY_BYTES instead of sanic's 100 MB.
- Turns are served first come, first served, and refused at once with a 503
  and Retry-After when too many wait (bot/turn_queue.py).
- A readiness check and a reload of the newest model without downtime
  (GET /helpdesk/ready, POST /helpdesk/reload: bot/rasa_ext/model_reload.py).
- asyncio's own event loop, not uvloop (sanic's default): see harden().
- Action calls over connections kept open (bot/rasa_ext/kept_connections.py).
- The loaded model frozen out of the garbage collector's full collections
  (bot/rasa_ext/gc_pauses.py).

Rasa exposes no hook for any of this: the two functions of Rasa that build
the server are wrapped before Rasa runs (`bot.rasa_ext.bootstrap.harden_server`,
with every other patch of Rasa). tests/redteam/test_host.py holds it.
"""
from __future__ import annotations

import asyncio
import os
import sys
from functools import wraps
from inspect import isawaitable
from typing import Any, Callable

from bot import turn_queue
from bot.core.service_auth import bearer_token
from bot.rasa_ext import bootstrap, gc_pauses, kept_connections, model_reload

# The largest legitimate bodies: a WeChat message (the channel stops at 64 KiB)
# and a REST message of 5000 characters (at most 30 KB of escaped JSON).
MAX_BODY_BYTES = 256 * 1024


def bearer_auth(rasa_requires_auth: Callable) -> Callable:
    """Rasa's `requires_auth`, also accepting the token as a Bearer header."""

    def requires_auth(app: Any, token: Any = None) -> Callable:
        rasa_decorator = rasa_requires_auth(app, token)

        def decorator(handler: Callable) -> Callable:
            checked_by_rasa = rasa_decorator(handler)

            @wraps(handler)
            async def decorated(request: Any, *args: Any, **kwargs: Any) -> Any:
                import hmac

                given = bearer_token(request.headers)
                if token and given and hmac.compare_digest(given.encode(), str(token).encode()):
                    result = handler(request, *args, **kwargs)
                    return await result if isawaitable(result) else result
                return await checked_by_rasa(request, *args, **kwargs)

            return decorated

        return decorator

    return requires_auth


def _too_large(request: Any, exception: Exception) -> Any:
    """sanic's own 413 is HTML or its own JSON: ours has the shape of every other error."""
    from sanic import response

    return response.json({"error": {"code": "payload_too_large",
                                    "message": f"The request body is larger than {MAX_BODY_BYTES} bytes."}},
                         status=413)


def harden(app: Any) -> Any:
    from sanic.exceptions import PayloadTooLarge

    from bot.http.request import CheckedRequest

    app.request_class = CheckedRequest
    # uvloop accepts one new connection per round of its event loop, and under load a round of
    # this server's loop lasts 0.3-1 s (every turn step ready runs before it polls again; strace:
    # one accept4 per epoll_pwait): connections opened under load (nginx's new ones to a replica,
    # a client's first to one) waited 2-8 s to be accepted, the cluster's p99 (README, benchmarks).
    # asyncio's loop accepts every waiting connection at once; one process is as fast on either.
    app.config.USE_UVLOOP = False
    asyncio.set_event_loop_policy(None)  # as Rasa does when it turns uvloop off: an import may have set it
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    app.error_handler.add(PayloadTooLarge, _too_large)
    # Turns first come, first served; a full queue refuses at once, with Retry-After.
    bootstrap.Patch("rasa.core.agent.Agent", "handle_message", turn_queue.queued).apply()
    app.register_middleware(turn_queue.add_retry_after, "response")
    model_reload.install(app)  # /helpdesk/ready, /helpdesk/reload
    kept_connections.install(app)  # action calls over kept connections
    # The model, loaded before the server starts (Rasa's before_server_start), frozen out of the
    # collector's full collections: each one stopped the loop for a quarter of a second.
    app.register_listener(gc_pauses.freeze_after_start, "after_server_start")
    return app


# Connections the kernel holds for the server while a turn runs (Rasa's default, 100, is
# soon reached by clients that open a connection per message: past it a connection
# attempt waits a second or more before the kernel tries again).
LISTEN_BACKLOG = 1024


def main() -> None:
    bootstrap.harden_server()  # before Rasa builds its app
    os.environ.setdefault("SANIC_BACKLOG", str(LISTEN_BACKLOG))  # Rasa passes it to sanic
    from rasa.__main__ import main as rasa_main

    token = os.environ.get("RASA_AUTH_TOKEN", "")
    sys.argv = ["rasa", *sys.argv[1:], *(["--auth-token", token] if token else [])]
    rasa_main()


if __name__ == "__main__":
    main()
