"""The HTTP API (sanic): the app, put together from one blueprint per resource (routes/).

Every route but /health and /openapi.json needs the service token
(`Authorization: Bearer ...`): the protected blueprints check it as middleware
(routes/guards.py). Holder-scoped routes also need the verification token
(`X-Verification-Token`). Bad input of any kind gets a 4xx with
`{"error": {"code", "message"}}`; the error handler (bot/http/errors.py) turns
anything unexpected into a logged 500 without echoing the request. Blocking
database work runs in threads (bot/http/blocking.py); sanic cancels a handler
whose client disconnects, but the thread's transaction still finishes as a whole.
"""
from __future__ import annotations

import logging

from sanic import Sanic

from bot.backend.config import BackendConfig
from bot.backend.openapi import document
from bot.backend.routes import applications, cards, dev_outbox, handoffs, public, retention, tickets, verifications
from bot.backend.routes.context import Backend
from bot.backend.routes.guards import protected
from bot.backend.sms import gateway_for
from bot.db import Database
from bot.http.app import new_app
from bot.http.blocking import DatabaseWork
from bot.http.errors import JsonErrorHandler

DATABASE_THREADS = 32


def create_app(cfg: BackendConfig, db: Database) -> Sanic:
    work = DatabaseWork(db, DATABASE_THREADS, "backend-db")
    backend = Backend(cfg, work, gateway_for(cfg.mode))
    resources = [verifications.blueprint(backend), cards.blueprint(backend),
                 applications.blueprint(backend), tickets.blueprint(backend), handoffs.blueprint(backend),
                 retention.blueprint(backend)]
    if cfg.development:
        resources.append(dev_outbox.blueprint(backend))
    service_only = protected(cfg.service_token, *resources)

    errors = JsonErrorHandler(
        messages={413: f"The request body is larger than {cfg.max_body_bytes} bytes."},
        auth_scheme="Bearer",
    )
    app = new_app("card_backend", max_body_bytes=cfg.max_body_bytes, errors=errors,
                  access_log=logging.getLogger("bot.backend.access"))
    app.blueprint(service_only)
    app.blueprint(public.blueprint(work, document(cfg.development)))

    @app.listener("after_server_stop")
    async def _stop(app_, loop) -> None:
        work.close()
        db.dispose()

    return app
