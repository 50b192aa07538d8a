"""The web process's sanic app: pages, the chat API, the staff lookup."""
from __future__ import annotations

import logging
import time

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.backend.db import Database
from bot.web.chat import add_chat_routes
from bot.web.config import (
    BACKEND_TIMEOUT_SECONDS,
    MAX_BODY_BYTES,
    RASA_TIMEOUT_SECONDS,
    WebConfig,
)
from bot.web.faq_search import FaqSearch
from bot.backend.api import CheckedRequest
from bot.web.http import JsonErrorHandler, add_security_headers, json_response
from bot.web.pages import add_page_routes
from bot.web.rasa_client import RasaClient
from bot.web.rate_limit import Limiter
from bot.web.sessions import ChatSessions
from bot.web.shared_state import open_state
from bot.web.staff.routes import add_staff_routes
from bot.web.tickets import TicketSource

access_log = logging.getLogger("bot.web.access")


def create_app(cfg: WebConfig, db: Database, name: str = "helpdesk_web") -> Sanic:
    app = Sanic(name, configure_logging=False, request_class=CheckedRequest)
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.REQUEST_TIMEOUT = 30
    app.config.RESPONSE_TIMEOUT = 60
    # request.remote_addr (the login throttle's address) from X-Forwarded-For,
    # trusting only as many hops as there are proxies of ours.
    app.config.PROXIES_COUNT = cfg.proxies_count
    app.error_handler = JsonErrorHandler()

    rasa = RasaClient(cfg.rasa_url, cfg.rasa_token, RASA_TIMEOUT_SECONDS)
    tickets = TicketSource(cfg.backend_url, cfg.backend_token, BACKEND_TIMEOUT_SECONDS)
    search = FaqSearch(rasa)
    add_page_routes(app)
    state = open_state(cfg.redis_url)
    limiter = Limiter(state, cfg.secret_key, factor=cfg.chat_limit_factor)
    add_chat_routes(app, ChatSessions(cfg.secret_key, cfg.chat_idle_minutes * 60), rasa, limiter)
    add_staff_routes(app, cfg, db, search, tickets)

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return json_response({"status": "ok"})

    @app.on_request
    async def _started(request: Request) -> None:
        request.ctx.started = time.monotonic()

    @app.on_response
    async def _headers(request: Request, response: HTTPResponse) -> None:
        add_security_headers(response)
        started = getattr(request.ctx, "started", None)
        took = f"{(time.monotonic() - started) * 1000:.0f}ms" if started else "-"
        access_log.info("%s %s %s %s", request.method, request.path[:100], response.status, took)

    @app.listener("after_server_stop")
    async def _stop(app_, loop) -> None:
        await rasa.close()
        await tickets.close()
        await state.close()
        db.dispose()

    return app
