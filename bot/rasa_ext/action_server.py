"""`python -m bot.rasa_ext.action_server ARGS`: rasa_sdk's action server (`python -m
rasa_sdk ARGS`) that serves only the Rasa server.

rasa_sdk has no authentication: anything on the host could post a crafted
tracker to /webhook. Through rasa_sdk's own extension point (its pluggy hook
`attach_sanic_app_extensions`) every route but /health (the launcher's health
check) is refused (401) unless the request presents ACTION_SERVER_SECRET in
the X-Helpdesk-Action-Secret header, which Rasa sends with every action call
(endpoints.yml); with no secret configured every such request gets 503. The
request class is bot.http's (sanic 21.12's Content-Length guard).
"""
from __future__ import annotations

import logging

import pluggy
from sanic import Sanic, response
from sanic.request import Request

from bot.core.service_auth import ACTION_SECRET_HEADER, presents
from bot.core.settings import resolved

log = logging.getLogger(__name__)
hookimpl = pluggy.HookimplMarker("rasa_sdk")

OPEN_PATHS = frozenset({"/health"})


class OnlyRasa:
    """The rasa_sdk plugin that adds the shared-secret check."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    @hookimpl
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        from bot.http.request import CheckedRequest

        app.request_class = CheckedRequest
        if not self.secret:
            log.error("ACTION_SERVER_SECRET is empty, so the action server refuses every action call")

        async def only_rasa(request: Request):
            if request.path in OPEN_PATHS:
                return None
            if not self.secret:
                return response.json({"error": "the action server has no secret configured"}, status=503)
            if not presents(request.headers, ACTION_SECRET_HEADER, self.secret):
                return response.json({"error": f"present the shared secret in {ACTION_SECRET_HEADER}"}, status=401)
            return None

        app.register_middleware(only_rasa, "request")


def main() -> None:
    from rasa_sdk.__main__ import main as rasa_sdk_main
    from rasa_sdk.plugin import plugin_manager

    plugin_manager().register(OnlyRasa(resolved()["ACTION_SERVER_SECRET"]))
    rasa_sdk_main()


if __name__ == "__main__":
    main()
