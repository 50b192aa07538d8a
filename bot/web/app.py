"""The web process's sanic app: pages, the chat API, the staff lookup."""
from __future__ import annotations

import asyncio
import logging

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.db import Database
from bot.handoff.client import HandoffClient
from bot.http.app import new_app
from bot.http.blocking import DatabaseWork
from bot.http.errors import JsonErrorHandler
from bot.http.json import json_response
from bot.insights.indexer import INDEX_SECONDS, IndexerJob
from bot.web.chat import add_chat_routes
from bot.web.config import (
    BACKEND_TIMEOUT_SECONDS,
    HANDOFF_SWEEP_SECONDS,
    MAX_BODY_BYTES,
    RASA_TIMEOUT_SECONDS,
    WebConfig,
)
from bot.web.faq_search import FaqSearch
from bot.web.handoff_state import HandoffState
from bot.web.handoff_sweep import HandoffSweep
from bot.web.http import WEB_ERROR_MESSAGES, add_security_headers
from bot.web.pages import add_page_routes
from bot.web.rasa_client import RasaClient
from bot.web.ratings import Ratings
from bot.web.rate_limit import Limiter
from bot.web.sessions import ChatSessions
from bot.web.shared_state import open_state
from bot.web.staff.guard import StaffGuard
from bot.web.staff.routes import add_staff_routes
from bot.web.tickets import TicketSource

STAFF_DATABASE_THREADS = 8


def create_app(cfg: WebConfig, db: Database, name: str = "helpdesk_web") -> Sanic:
    app = new_app(name, max_body_bytes=MAX_BODY_BYTES, errors=JsonErrorHandler(messages=WEB_ERROR_MESSAGES),
                  access_log=logging.getLogger("bot.web.access"))
    # request.remote_addr (the login throttle's address) from X-Forwarded-For,
    # trusting only as many hops as there are proxies of ours.
    app.config.PROXIES_COUNT = cfg.proxies_count
    app.on_response(add_security_headers)

    rasa = RasaClient(cfg.rasa_url, cfg.rasa_token, RASA_TIMEOUT_SECONDS)
    tickets = TicketSource(cfg.backend_url, cfg.backend_token, BACKEND_TIMEOUT_SECONDS)
    staff_db = DatabaseWork(db, STAFF_DATABASE_THREADS, "staff-db")
    add_page_routes(app)
    state = open_state(cfg.redis_url)
    limiter = Limiter(state, cfg.secret_key, factor=cfg.chat_limit_factor)
    handoff_client = HandoffClient(cfg.backend_url, cfg.backend_token, BACKEND_TIMEOUT_SECONDS)
    handoffs = HandoffState(handoff_client, state, limiter.opaque)
    add_chat_routes(app, ChatSessions(cfg.secret_key, cfg.chat_idle_minutes * 60), rasa, limiter, handoffs,
                    Ratings(staff_db, limiter.opaque))
    add_staff_routes(app, cfg, StaffGuard(cfg, staff_db), FaqSearch(rasa), tickets, handoffs, rasa)
    sweep = HandoffSweep(handoff_client, rasa, handoffs, cfg.handoff_wait_minutes)
    app.ctx.insights = IndexerJob(cfg.tracker_db_url, db, limiter.opaque)  # the facts for figures and review
    tasks = []

    @app.listener("after_server_start")
    async def _start_sweep(app_, loop) -> None:
        tasks.append(loop.create_task(sweep.run(HANDOFF_SWEEP_SECONDS)))
        tasks.append(loop.create_task(app.ctx.insights.run(INDEX_SECONDS)))

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return json_response({"status": "ok"})

    @app.listener("before_server_stop")
    async def _stop_sweep(app_, loop) -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @app.listener("after_server_stop")
    async def _stop(app_, loop) -> None:
        await rasa.close()
        await tickets.close()
        await handoff_client.close()
        await state.close()
        staff_db.close()
        app.ctx.insights.close()
        db.dispose()

    return app
