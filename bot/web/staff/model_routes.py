"""The admin's "load the newest model" (issue 13), on the accounts page (static/staff_model.js).

    GET  /api/staff/model                       -> {"servers": [{"name", "state", "ready", "model_id",
                                                    "model_file", "last_reload"}], "reload": {"running",
                                                    "started_at", "finished_at", "outcomes": [...]} | null}
    POST /api/staff/model/reload  X-CSRF-Token  -> 202 {"reload": {...}}; 409 reload_running

The reload is `python -m bot reload`'s (bot/ops/reload.py: every Rasa server
of RUN_DIR/processes.json in turn, each back in service before the next), run
in this web process in a task of its own: it outlives the request; the page
polls GET for its progress. routes.py guards both: a login with the
capability `accounts` (admin).
"""
from __future__ import annotations

import asyncio
import datetime
import logging
from typing import Any, Dict, Optional

import httpx
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.core.service_auth import bearer_header
from bot.core.settings import resolved
from bot.http.errors import HttpError
from bot.http.json import json_response
from bot.ops import reload as model_reload
from bot.web.staff.guard import StaffGuard

log = logging.getLogger("bot.web.staff.model")

STATUS_TIMEOUT_SECONDS = 5


def _now() -> str:
    return datetime.datetime.utcnow().isoformat(timespec="seconds") + "Z"


class ReloadJob:
    """The reload this web process runs (at most one at a time)."""

    def __init__(self, env: Dict[str, str]) -> None:
        self.env = {**env, "RASA_AUTH_TOKEN": model_reload.api_token(env)}
        self.view: Optional[Dict[str, Any]] = None
        self._task: Optional[asyncio.Task] = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> Dict[str, Any]:
        if self.running:
            raise HttpError(409, "reload_running", "A reload is running already.")
        self.view = {"running": True, "started_at": _now(), "finished_at": None, "outcomes": [], "progress": []}
        self._task = asyncio.get_running_loop().create_task(self._run(self.view))
        return self.view

    async def _run(self, view: Dict[str, Any]) -> None:
        try:
            outcomes = await model_reload.reload_all(self.env, report=view["progress"].append)
            view["outcomes"] = model_reload.as_dicts(outcomes)
            log.info("model reload: %s", "; ".join(o.line() for o in outcomes))
        except Exception as error:  # the page says so; the servers keep whatever they have
            view["outcomes"].append({"name": "", "result": "failed", "error": type(error).__name__})
            log.error("model reload failed: %s", type(error).__name__)
        finally:
            view["running"], view["finished_at"] = False, _now()

    async def servers(self) -> list:
        """Each Rasa server's readiness as it answers now."""
        replicas = model_reload.replicas(self.env)
        async with httpx.AsyncClient(timeout=STATUS_TIMEOUT_SECONDS,
                                     headers=bearer_header(self.env["RASA_AUTH_TOKEN"])) as client:
            answers = await asyncio.gather(*(model_reload.status(client, r) for r in replicas))
        keys = ("state", "ready", "model_id", "model_file", "last_reload")
        return [{"name": r.name, **{k: a.get(k) for k in keys}} for r, a in zip(replicas, answers)]


def model_blueprint(guard: StaffGuard, env: Optional[Dict[str, str]] = None) -> Blueprint:
    bp = Blueprint("staff_model")
    job = ReloadJob(env or resolved())

    @bp.get("/api/staff/model")
    async def model_state(request: Request) -> HTTPResponse:
        return json_response({"servers": await job.servers(), "reload": job.view})

    @bp.post("/api/staff/model/reload")
    async def reload(request: Request) -> HTTPResponse:
        guard.check_csrf_token(request)
        view = job.start()
        log.info("model reload started by an admin")
        return json_response({"reload": view}, status=202)

    return bp
