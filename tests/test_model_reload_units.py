"""The reload's parts without a trained model (bot/rasa_ext/model_reload.py,
bot/ops/reload.py, bot/ops/cluster.py): the routes on a sanic app whose agent
and model loading are stand-ins; a replica that loads drains, one process does
not; the swap; a failed load; `reload_all` one server at a time, stopping at the
first failure; the replicas from processes.json; nginx's configuration."""
from __future__ import annotations

import asyncio
import gc
import json
import threading
import weakref
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.server import ErrorResponse
from sanic import Sanic, response

from bot.ops import reload as ops_reload
from bot.ops.cluster import nginx_config
from bot.rasa_ext import bootstrap, gc_pauses, model_reload
from bot.session_cache import SessionCache
from tests.support.sanic_server import serving

TOKEN = "reload-test-token"


class Processor:
    def __init__(self, model_id: str, responses: dict) -> None:
        self.model_metadata = SimpleNamespace(model_id=model_id)
        self.model_filename = f"{model_id}.tar.gz"
        self.domain = SimpleNamespace(responses=responses)


class Agent:
    def __init__(self, processor: Processor) -> None:
        self.processor, self.domain = processor, processor.domain
        self.tracker_store = SimpleNamespace(domain=None, sessions=SessionCache())
        self.nlg = TemplatedNaturalLanguageGenerator({})

    @property
    def model_id(self) -> str:
        return self.processor.model_metadata.model_id


def rasa_app(name: str, tmp_path: Path, monkeypatch, replicas: str) -> Sanic:
    """A Rasa-like app (an agent of stand-ins, a turn that answers its model id) with our routes."""
    models = tmp_path / "models"
    models.mkdir(exist_ok=True)
    (models / "helpdesk.tar.gz").write_bytes(b"stand-in")
    monkeypatch.setenv("RASA_REPLICAS", replicas)
    monkeypatch.setenv("MODEL_DIR", str(models))
    monkeypatch.setenv("RASA_AUTH_TOKEN", TOKEN)
    app = Sanic(name)
    app.ctx.agent = Agent(Processor("old", {}))

    @app.exception(ErrorResponse)  # as Rasa's app answers its auth errors
    async def error(request, exception):
        return response.json(exception.error_info, status=exception.status)

    @app.post("/webhooks/rest/webhook")
    async def turn(request):
        return response.json([{"text": app.ctx.agent.model_id}])

    @app.get("/")
    async def hello(request):
        return response.text("Hello from Rasa")

    model_reload.install(app)
    return app


@pytest.fixture(autouse=True)
def bearer_auth():
    """Rasa's auth also taking `Authorization: Bearer` (bootstrap.ENTRY_PATCHES, as the Rasa server has it)."""
    patch = next(p for p in bootstrap.ENTRY_PATCHES if p.name == "requires_auth")
    was_applied = patch.applied()
    patch.apply()
    yield
    if not was_applied:
        patch.undo()


@pytest.fixture()
def stand_in_loading(monkeypatch):
    """Loading waits for `release` (set it to let the load finish); the probe answers."""
    release = threading.Event()
    state = {"fail": False}

    def load(agent, path):
        assert release.wait(30)
        if state["fail"]:
            raise OSError("not a model")
        return Processor("new", {"utter_new": [{"text": "新"}]})

    monkeypatch.setattr(model_reload, "load_processor", load)
    monkeypatch.setattr(model_reload, "probe", lambda processor: {"intent": "faq", "action": "utter_faq"})
    return SimpleNamespace(release=release, state=state)


async def until_serving(client: httpx.AsyncClient) -> dict:
    for _ in range(300):
        body = (await client.get("/helpdesk/ready")).json()
        if body["state"] == "serving":
            return body
        await asyncio.sleep(0.05)
    raise AssertionError("never serving again")


async def test_a_loading_replica_drains_then_serves_the_new_model(tmp_path, monkeypatch, stand_in_loading):
    app = rasa_app("reload_replica", tmp_path, monkeypatch, "2")
    agent = app.ctx.agent
    sessions = agent.tracker_store.sessions
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=10,
                                                       headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        assert (await client.get("/helpdesk/ready", headers={"Authorization": "Bearer wrong"})).status_code == 401
        ready = await client.get("/helpdesk/ready")
        assert ready.status_code == 200 and ready.json()["model_id"] == "old" and ready.json()["ready"] is True

        started = await client.post("/helpdesk/reload")
        assert started.status_code == 202 and started.json()["reload"] == 1
        assert (await client.post("/helpdesk/reload")).json()["reload"] == 1  # the one running
        loading = await client.get("/helpdesk/ready")
        assert loading.status_code == 503
        assert loading.json()["state"] == "loading" and loading.json()["draining"] is True
        turn = await client.post("/webhooks/rest/webhook", json={})
        assert turn.status_code == 503 and turn.json()["error"]["code"] == "reloading"
        assert int(turn.headers["Retry-After"]) >= 1
        assert (await client.get("/")).status_code == 200  # the launcher's health check

        stand_in_loading.release.set()
        body = await until_serving(client)
        assert body["ready"] and body["model_id"] == "new" and body["model_file"] == "new.tar.gz"
        assert body["last_reload"]["result"] == "ok" and body["last_reload"]["previous_model_id"] == "old"
        assert (await client.post("/webhooks/rest/webhook", json={})).json() == [{"text": "new"}]
    assert agent.domain is agent.processor.domain and agent.tracker_store.domain is agent.processor.domain
    assert agent.nlg.responses == {"utter_new": [{"text": "新"}]}
    assert agent.tracker_store.sessions is not sessions  # kept sessions of the old domain dropped


async def test_a_reload_frees_the_old_model_though_the_server_froze_it(tmp_path, monkeypatch, stand_in_loading):
    """The serving model is frozen out of full collections (bot/rasa_ext/gc_pauses.py); a frozen
    object in a reference cycle (TensorFlow's are) is never freed unless the reload unfreezes it."""
    app = rasa_app("reload_frees", tmp_path, monkeypatch, "1")
    old = app.ctx.agent.processor
    old.cycle = old
    old_model = weakref.ref(old)
    del old
    gc_pauses.freeze()  # as the Rasa server does once it has loaded the model
    try:
        async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=10,
                                                           params={"token": TOKEN}) as client:
            assert (await client.post("/helpdesk/reload")).status_code == 202
            stand_in_loading.release.set()
            assert (await until_serving(client))["model_id"] == "new"
            for _ in range(200):  # the collection follows the swap, in the reload's thread
                if old_model() is None:
                    break
                await asyncio.sleep(0.05)
            assert old_model() is None
            assert gc.get_freeze_count() > 0  # the new model frozen in its turn
    finally:
        gc.unfreeze()


async def test_one_process_serves_turns_while_it_loads_and_keeps_its_model_when_the_load_fails(
        tmp_path, monkeypatch, stand_in_loading):
    app = rasa_app("reload_single", tmp_path, monkeypatch, "1")
    stand_in_loading.state["fail"] = True
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=10, params={"token": TOKEN}) as client:
        assert (await client.post("/helpdesk/reload")).status_code == 202
        assert (await client.get("/helpdesk/ready")).json()["draining"] is False
        assert (await client.post("/webhooks/rest/webhook", json={})).json() == [{"text": "old"}]
        stand_in_loading.release.set()
        body = await until_serving(client)
        assert body["ready"] and body["model_id"] == "old"
        assert body["last_reload"]["result"] == "failed" and "not a model" in body["last_reload"]["error"]


async def test_without_a_model_file_the_reload_is_refused(tmp_path, monkeypatch, stand_in_loading):
    app = rasa_app("reload_no_model", tmp_path, monkeypatch, "1")
    (tmp_path / "models" / "helpdesk.tar.gz").unlink()
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=10, params={"token": TOKEN}) as client:
        refused = await client.post("/helpdesk/reload")
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "no_model"


async def test_reload_all_goes_one_server_at_a_time_and_stops_at_a_failure(tmp_path, monkeypatch):
    order = []

    def load(agent, path):
        order.append(agent.name)
        if agent.name == "first" and len(order) > 1:
            raise OSError("broken")
        return Processor(f"new-{agent.name}", {})

    monkeypatch.setattr(model_reload, "load_processor", load)
    monkeypatch.setattr(model_reload, "probe", lambda processor: {})
    apps = [rasa_app(f"reload_all_{name}", tmp_path, monkeypatch, "2") for name in ("first", "second")]
    for app, name in zip(apps, ("first", "second")):
        app.ctx.agent.name = name
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    async with serving(apps[0]) as first, serving(apps[1]) as second:
        (run_dir / "processes.json").write_text(json.dumps([
            {"name": "card backend", "health_url": "http://127.0.0.1:9/health"},
            {"name": "rasa server-1", "health_url": first + "/"},
            {"name": "rasa server-2", "health_url": second + "/"},
            {"name": "nginx", "health_url": "http://127.0.0.1:9/"},
        ]))
        env = {"RUN_DIR": str(run_dir), "RASA_URL": "http://127.0.0.1:9", "RASA_AUTH_TOKEN": TOKEN}
        lines = []
        outcomes = await ops_reload.reload_all(env, lines.append)
        assert [(o.name, o.result, o.model_id, o.previous_model_id) for o in outcomes] == [
            ("rasa server-1", "ok", "new-first", "old"), ("rasa server-2", "ok", "new-second", "old")]
        assert order == ["first", "second"] and "loaded in" in lines[1]

        outcomes = await ops_reload.reload_all(env, lines.append)  # the first one fails now
        assert [(o.name, o.result) for o in outcomes] == [("rasa server-1", "failed")]
        assert order == ["first", "second", "first"]  # the second was not asked
        assert "keep their model" in lines[-1]


def test_the_servers_are_the_launchers_else_rasa_url(tmp_path):
    env = {"RUN_DIR": str(tmp_path), "RASA_URL": "http://127.0.0.1:5005/"}
    assert ops_reload.replicas(env) == [ops_reload.Replica("rasa server", "http://127.0.0.1:5005")]
    (tmp_path / "processes.json").write_text(json.dumps([
        {"name": "action server", "health_url": "http://127.0.0.1:5055/health"},
        {"name": "rasa server", "health_url": "http://127.0.0.1:5006/"},
    ]))
    assert ops_reload.replicas(env) == [ops_reload.Replica("rasa server", "http://127.0.0.1:5006")]


def test_nginx_passes_turns_on_from_a_replica_that_answers_503_but_never_an_action_call(tmp_path):
    config = nginx_config({"HELPDESK_HOST": "127.0.0.1", "RASA_PORT": "5005", "ACTION_SERVER_PORT": "5055"},
                          [7001, 7002], [7101, 7102], tmp_path, tmp_path)
    rasa, actions = config.split("upstream action_servers")
    assert "proxy_next_upstream error timeout http_502 http_503 non_idempotent;" in rasa
    assert "max_fails=0" in rasa and "error_page 502 504 = @unavailable;" in rasa
    unavailable = rasa.split("return 503 '")[1].split("';")[0]
    assert "send it again" in json.loads(unavailable)["error"]["message"]
    assert "non_idempotent" not in actions and "max_fails=1" in actions and "@unavailable" not in actions
