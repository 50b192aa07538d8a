"""A new model without downtime, in one process (`make run`): `python -m bot reload`
while citizens send turns in a loop fails no turn (they are served by the old
model while the new one loads, then by the new one), the readiness check tells
loading from serving, every bot event names the model that produced it, and a
model that does not load leaves the old one serving (bot/rasa_ext/model_reload.py,
bot/ops/reload.py). The figures (reload time, turns during it, their latency) are
printed: `pytest -s`."""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from bot.core.paths import ROOT
from tests.support.product import MODEL, STAFF_PASSWORD, STAFF_USER, start_product
from tests.support.turn_load import TurnLoad, latency

pytestmark = pytest.mark.product

TOKEN = {"Authorization": "Bearer test-token"}  # product_environment's RASA_AUTH_TOKEN


def model_with_new_id(source: Path, target: Path) -> str:
    """A copy of a trained model with a model id of its own, as a retrained one
    has (metadata.json); written under another name, then moved into place."""
    model_id = uuid.uuid4().hex
    partial = target.with_suffix(".partial")
    with tarfile.open(source, "r:gz") as old, tarfile.open(partial, "w:gz", compresslevel=1) as new:
        for member in old:
            data = old.extractfile(member) if member.isfile() else None
            if member.name.lstrip("/") == "metadata.json":
                metadata = json.loads(data.read())
                metadata["model_id"] = model_id
                raw = json.dumps(metadata).encode()
                member.size, data = len(raw), io.BytesIO(raw)
            new.addfile(member, data)
    partial.rename(target)
    return model_id


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    base = tmp_path_factory.mktemp("reload")
    models = base / "models"
    models.mkdir()
    shutil.copy(MODEL, models / "helpdesk.tar.gz")
    product = start_product(base, MODEL_DIR=str(models))
    yield product
    product.stop()


def ready(product) -> httpx.Response:
    return httpx.get(f"{product.rasa_url}/helpdesk/ready", headers=TOKEN, timeout=30)


def bot_model_ids(product, senders) -> list:
    """(timestamp, model id) of the senders' stored bot events, in order."""
    engine = create_engine(product.tracker_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT sender_id, timestamp, data FROM events WHERE type_name = 'bot' ORDER BY id")).all()
    finally:
        engine.dispose()
    return [(stamp, json.loads(data).get("metadata", {}).get("model_id")) for sender, stamp, data in rows
            if sender in senders]


def reload_command(product) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "reload"], cwd=ROOT, env=product.env,
                          capture_output=True, text=True, timeout=900)


def test_the_readiness_check_names_the_model_and_takes_the_token(single):
    answer = ready(single)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["ready"] is True and body["state"] == "serving" and len(body["model_id"]) == 32
    assert body["model_file"].endswith(".tar.gz")
    assert httpx.get(f"{single.rasa_url}/helpdesk/ready", timeout=30).status_code == 401
    assert httpx.post(f"{single.rasa_url}/helpdesk/reload", timeout=30).status_code == 401


def resident_mib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0


def test_a_reload_under_load_fails_no_turn_and_the_new_model_answers_after_it(single):
    before = ready(single).json()
    new_id = model_with_new_id(MODEL, Path(single.env["MODEL_DIR"]) / f"helpdesk-{time.time_ns()}.tar.gz")
    rasa_pid = single.processes()["rasa server"]
    memory = [resident_mib(rasa_pid)]
    with TurnLoad(single.rasa_url, single.rest_headers, clients=4, prefix="reload-one") as load:
        load.wait_for(8)  # the load runs before the reload starts
        started = time.monotonic()
        command = subprocess.Popen([sys.executable, "-m", "bot", "reload"], cwd=ROOT, env=single.env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while command.poll() is None:  # the Rasa server's memory while it holds two models
            memory.append(resident_mib(rasa_pid))
            time.sleep(0.5)
        ended = time.monotonic()
        done = subprocess.CompletedProcess(command.args, command.returncode, *command.communicate())
        load.wait_for(8)  # and goes on after it
    assert done.returncode == 0, done.stdout + done.stderr
    assert not load.failures(), load.failures()
    during = load.overlapping(started, ended)
    baseline = [s for s in load.sent if s.ended < started]
    after = ready(single).json()
    assert after["ready"] and after["model_id"] == new_id != before["model_id"]
    assert after["last_reload"]["result"] == "ok" and after["last_reload"]["probe"]["intent"]
    assert len(during) >= 4, "turns waited for the whole reload instead of being served"
    print(f"\none process: `python -m bot reload` took {ended - started:.1f} s (the load itself "
          f"{after['last_reload']['seconds']:.1f} s); turns before: {latency(baseline)}; "
          f"turns during the reload: {latency(during)}; failed: {len(load.failures())} of {len(load.sent)}; "
          f"Rasa server's memory: {memory[0]} MiB before, {max(memory)} MiB at most, "
          f"{resident_mib(rasa_pid)} MiB after\n"
          + done.stdout)

    # Every bot message names its model: the old one's until the swap, the new one's after.
    ids = [model_id for _, model_id in bot_model_ids(single, set(load.senders))]
    assert all(ids) and set(ids) == {before["model_id"], new_id}
    first_new = ids.index(new_id)
    assert set(ids[:first_new]) == {before["model_id"]}


def test_a_model_that_does_not_load_leaves_the_old_one_serving(single):
    before = ready(single).json()
    broken = Path(single.env["MODEL_DIR"]) / f"zz-broken-{time.time_ns()}.tar.gz"
    broken.write_bytes(b"not a model")
    try:
        done = reload_command(single)
    finally:
        broken.unlink()
    assert done.returncode == 1, done.stdout + done.stderr
    assert "reload failed" in done.stdout
    after = ready(single).json()
    assert after["ready"] and after["model_id"] == before["model_id"]
    assert after["last_reload"]["result"] == "failed" and after["last_reload"]["model_file"] == broken.name
    assert single.say("reload-broken", "补办的社保卡需要重新激活吗?")


def staff_client(product, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=product.web_url, timeout=30, headers={"Origin": product.web_url})
    login = client.post("/api/staff/login", json={"username": username, "password": password})
    assert login.status_code == 200, login.text
    client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    return client


def test_an_admin_reloads_from_the_staff_api_and_nobody_else_may(single):
    admin = staff_client(single, STAFF_USER, STAFF_PASSWORD)
    before = admin.get("/api/staff/model")
    assert before.status_code == 200, before.text
    assert [(s["name"], s["state"], s["ready"]) for s in before.json()["servers"]] == [("rasa server", "serving", True)]

    assert admin.post("/api/staff/accounts", json={"username": "reload-agent", "password": "agent-password-1",
                                                  "role": "reviewer"}).status_code == 201
    reviewer = staff_client(single, "reload-agent", "agent-password-1")
    assert reviewer.get("/api/staff/model").json()["error"]["code"] == "forbidden"
    assert reviewer.post("/api/staff/model/reload").status_code == 403
    assert httpx.get(f"{single.web_url}/api/staff/model", timeout=30).status_code == 401

    started = admin.post("/api/staff/model/reload")
    assert started.status_code == 202, started.text
    assert admin.post("/api/staff/model/reload").json()["error"]["code"] == "reload_running"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        state = admin.get("/api/staff/model").json()
        if not state["reload"]["running"]:
            break
        time.sleep(1)
    assert [(o["name"], o["result"]) for o in state["reload"]["outcomes"]] == [("rasa server", "ok")]
    server, earlier = state["servers"][0], before.json()["servers"][0]["last_reload"]
    assert server["ready"] and server["last_reload"]["result"] == "ok"
    assert server["last_reload"]["number"] == (earlier["number"] if earlier else 0) + 1
