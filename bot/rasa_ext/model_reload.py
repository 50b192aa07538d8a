"""A new model without downtime: the Rasa server's readiness check and reload.

    GET  /helpdesk/ready   -> 200 {"ready": true, "model_id", "model_file", "state": "serving",
                                   "reloads", "last_reload"}; 503 {"ready": false, "state": "loading", ...}
                              while a new model loads (Rasa's /status cannot tell: it answers for the old one)
    POST /helpdesk/reload  -> 202 {"reload": <number>, "model_file", "state": "loading"}: loads the newest
                              model in MODEL_DIR; a reload already running is the one answered

Both take the Rasa API token (`Authorization: Bearer`). `last_reload` is
{"number", "result": "ok" | "failed", "model_file", "model_id", "previous_model_id", "seconds",
"error"?}; `python -m bot reload` (bot/ops/reload.py) reads it.

The model is loaded in a thread of its own, off the event loop: the server
goes on serving turns with the model it has. The new one is then asked to
parse a probe message and to predict the next action for it (which also runs
TensorFlow's first, slow calls there, not in a citizen's turn); only a model
that answers is swapped in, in one step on the event loop between two turns.
A turn already running finishes on the model it started with (Agent.handle_message
took its processor before the swap). A model that fails to load or to answer
leaves the old one serving, and `last_reload.result` says "failed".

With several replicas (RASA_REPLICAS > 1) a replica that loads is out of
service: every request but these routes and `/` gets 503 with Retry-After,
which nginx passes to another replica (bot/ops/cluster.py: http_503
non_idempotent), so the turns run at full speed elsewhere. One Rasa process
has nowhere to send them: it serves them with the old model meanwhile (slower:
the load shares the CPU).

The tracker store's kept sessions (bot.session_cache) hold slot states built
with the old domain: they are dropped at the swap, and read again from the
database at each conversation's next turn.
"""
from __future__ import annotations

import asyncio
import logging
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Optional

from bot.rasa_ext import gc_pauses
from bot.session_cache import SessionCache

log = logging.getLogger("bot.model_reload")

# Asked of a new model before it serves: in the product's own domain, answered by an FAQ.
PROBE_TEXT = "补办的社保卡需要重新激活吗?"
# Paths a draining replica still answers: its readiness and reload, and `/` (the launcher's health URL).
_OWN_PREFIX = "/helpdesk/"
LOADING, SERVING = "loading", "serving"


def latest_model(model_dir: str) -> Path:
    """The newest model in `model_dir` (as the launcher picks one at start)."""
    from bot.ops.launcher import latest_model as newest

    return newest(model_dir)


def _tracker_store(agent: Any) -> Any:
    """Our store inside Rasa's FailSafeTrackerStore wrapper."""
    store = agent.tracker_store
    return getattr(store, "_tracker_store", store)


def load_processor(agent: Any, model_path: Path) -> Any:
    """A MessageProcessor for `model_path` sharing the agent's stores and endpoints
    (what Agent.load_model builds, without touching the agent). Blocking: run in a thread."""
    from rasa.core.processor import MessageProcessor

    return MessageProcessor(
        model_path=model_path, tracker_store=agent.tracker_store, lock_store=agent.lock_store,
        action_endpoint=agent.action_endpoint, generator=agent.nlg, http_interpreter=agent.http_interpreter,
    )


def probe(processor: Any, text: str = PROBE_TEXT) -> Dict[str, Any]:
    """Parses `text` and predicts the next action with the new processor (in the
    loading thread, with an event loop of its own: nothing here awaits I/O).
    Raises ValueError if the model does not answer."""
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    parsed = asyncio.run(processor.parse_message(UserMessage(text, sender_id="helpdesk-model-probe")))
    intent = (parsed.get("intent") or {}).get("name")
    if not intent:
        raise ValueError("the new model parsed the probe message to no intent")
    tracker = DialogueStateTracker.from_events(
        "helpdesk-model-probe",
        [ActionExecuted(ACTION_LISTEN_NAME), UserUttered(text, parsed.get("intent"), parsed.get("entities"), parsed)],
        slots=processor.domain.slots,
    )
    scores = (processor.predict_next_with_tracker(tracker) or {}).get("scores")
    if not scores:
        raise ValueError("the new model predicted no action for the probe message")
    return {"intent": intent, "action": max(scores, key=lambda s: s["score"])["action"]}


def swap(agent: Any, processor: Any) -> None:
    """Puts the new processor in the agent's place (as Agent.load_model does after
    loading). No await in here: no turn starts or ends in the middle of it."""
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator

    agent.processor = processor
    agent.domain = processor.domain
    agent.tracker_store.domain = processor.domain
    if isinstance(agent.nlg, TemplatedNaturalLanguageGenerator):
        agent.nlg.responses = processor.domain.responses if processor.domain else {}
    store = _tracker_store(agent)
    if isinstance(getattr(store, "sessions", None), SessionCache):
        store.sessions = SessionCache(store.sessions.max_events)  # built with the old domain's slots


class ModelReloader:
    """The reload state of one Rasa server (one per process, on the sanic app)."""

    def __init__(self, app: Any, model_dir: str, draining: bool) -> None:
        self.app, self.model_dir, self.draining = app, model_dir, draining
        self.state = SERVING
        self.reloads = 0  # reloads started since the server started
        self.last: Optional[Dict[str, Any]] = None  # the last finished reload
        self._started = 0.0
        self._loading_file = ""
        self._last_seconds = 30.0  # for Retry-After: how long the last load took
        self._task: Optional[asyncio.Task] = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-reload")

    def _agent(self) -> Any:
        return getattr(self.app.ctx, "agent", None)

    def status(self) -> Dict[str, Any]:
        agent = self._agent()
        processor = getattr(agent, "processor", None)
        ready = processor is not None and self.state == SERVING
        status = {
            "ready": ready, "state": self.state if processor is not None else LOADING,
            "model_id": agent.model_id if processor is not None else None,
            "model_file": processor.model_filename if processor is not None else None,
            "reloads": self.reloads, "last_reload": self.last,
            "draining": self.draining and self.state == LOADING,
        }
        if self.state == LOADING:
            status["loading"] = {"number": self.reloads, "model_file": self._loading_file,
                                 "seconds": round(time.monotonic() - self._started, 1)}
        return status

    def retry_after(self) -> int:
        """Seconds until the load running now is expected to end (at least 1)."""
        left = self._last_seconds - (time.monotonic() - self._started)
        return max(1, min(60, math.ceil(left)))

    def start(self) -> Dict[str, Any]:
        """Starts a reload of the newest model unless one is running; what it is."""
        if self.state != LOADING:
            path = latest_model(self.model_dir)  # SystemExit when there is none: see the route
            self.reloads += 1
            self.state, self._started, self._loading_file = LOADING, time.monotonic(), path.name
            self._task = asyncio.get_running_loop().create_task(self._reload(self.reloads, path))
        return {"reload": self.reloads, "model_file": self._loading_file, "state": self.state}

    async def _reload(self, number: int, path: Path) -> None:
        agent = self._agent()
        previous = agent.model_id if agent is not None and agent.processor is not None else None
        result: Dict[str, Any] = {"number": number, "model_file": path.name, "previous_model_id": previous}
        loop = asyncio.get_running_loop()
        try:
            processor = await loop.run_in_executor(self._thread, load_processor, agent, path)
            answered = await loop.run_in_executor(self._thread, probe, processor)
            swap(agent, processor)
            result.update(result="ok", model_id=agent.model_id, probe=answered)
            log.info("model reload %d: %s loaded and answering (model id %s, was %s)", number, path.name,
                     agent.model_id, previous)
        except Exception as error:  # the old model goes on serving
            result.update(result="failed", model_id=previous, error=f"{type(error).__name__}: {error}"[:300])
            log.error("model reload %d of %s failed, the old model goes on serving: %s", number, path.name,
                      result["error"])
        finally:
            seconds = time.monotonic() - self._started
            self._last_seconds = seconds
            result["seconds"] = round(seconds, 2)
            self.last, self.state = result, SERVING
        # The old model's memory, once no turn holds it: collected in the thread (a pause of its
        # own), and the new model frozen out of later full collections (bot/rasa_ext/gc_pauses.py).
        await loop.run_in_executor(self._thread, gc_pauses.refreeze)

    async def drain(self, request: Any) -> Any:
        """Request middleware: while loading with replicas, 503 + Retry-After for all
        but our routes and `/` (nginx sends the request to another replica)."""
        if not (self.draining and self.state == LOADING):
            return None
        if request.path.startswith(_OWN_PREFIX) or request.path == "/":
            return None
        from sanic import response

        return response.json(
            {"error": {"code": "reloading", "message": "This replica is loading a new model; another one serves."}},
            status=503, headers={"Retry-After": str(self.retry_after())},
        )


def _replicated(env: Dict[str, str]) -> bool:
    try:
        return int(env.get("RASA_REPLICAS") or "1") > 1
    except ValueError:
        return False


def install(app: Any) -> ModelReloader:
    """Adds the routes and the draining middleware to Rasa's app (from rasa_server.harden)."""
    import rasa.server
    from sanic import response

    from bot.core.settings import resolved

    env = resolved()
    reloader = ModelReloader(app, env["MODEL_DIR"], draining=_replicated(env))
    app.ctx.model_reloader = reloader
    token = os.environ.get("RASA_AUTH_TOKEN") or None
    app.register_middleware(reloader.drain, "request")

    @app.get("/helpdesk/ready")
    @rasa.server.requires_auth(app, token)
    async def ready(request: Any) -> Any:
        status = reloader.status()
        return response.json(status, status=200 if status["ready"] else 503)

    @app.post("/helpdesk/reload")
    @rasa.server.requires_auth(app, token)
    async def reload(request: Any) -> Any:
        try:
            started = reloader.start()
        except SystemExit as missing:  # no model in MODEL_DIR
            return response.json({"error": {"code": "no_model", "message": str(missing)}}, status=409)
        return response.json(started, status=202)

    return reloader
