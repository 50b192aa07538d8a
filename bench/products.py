"""Products to measure, started as `make run` / `make cluster` start them
(the launcher, free ports, stores of their own under a temporary directory)."""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List

import httpx

from bot.core import settings
from bot.core.paths import ROOT
from bot.core.service_auth import REST_SECRET_HEADER
from bot.ops.cluster import ensure_postgres_database
from bot.ops.processes import free_port
from tests.support.launch import interrupt, launch_product

# What the load generator presents to the REST channel (it serves only callers with the secret).
REST_HEADERS = {REST_SECRET_HEADER: "bench-rest-channel-secret"}


@dataclass
class Product:
    name: str
    env: Dict[str, str]
    process: subprocess.Popen
    directory: Path
    started_in: float  # seconds from launch to READY

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.env['RASA_PORT']}"

    def processes(self) -> List[Dict]:
        return json.loads((Path(self.env["RUN_DIR"]) / "processes.json").read_text())

    def peak_memory_mb(self) -> Dict[str, float]:
        """VmHWM (peak resident set) of each process, in MB."""
        peaks = {}
        for p in self.processes():
            try:
                status = Path(f"/proc/{p['pid']}/status").read_text()
            except FileNotFoundError:
                continue
            kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
            peaks[p["name"]] = kb / 1024
        return peaks

    def stop(self) -> None:
        interrupt(self.process)


def start(name: str, model_dir: Path, directory: Path, root: Path = ROOT, **overrides: str) -> Product:
    """The product with the model in `model_dir`, on free ports; returns after
    its first reply (cold start = launch to first reply). `root`: the checkout
    whose code runs (bench/compare.py starts an earlier one beside this one)."""
    directory.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    for setting in settings.SETTINGS:  # nothing inherited from a running `make run`
        env.pop(setting.name, None)
    env.update(
        HELPDESK_HOST="127.0.0.1", MODEL_DIR=str(model_dir),
        RASA_PORT=str(free_port()), ACTION_SERVER_PORT=str(free_port()), BACKEND_PORT=str(free_port()),
        WEB_PORT=str(free_port()), BACKEND_DB_URL=f"sqlite:///{directory / 'backend.db'}",
        TRACKER_DB=str(directory / "tracker.db"), LOG_DIR=str(directory / "log"), RUN_DIR=str(directory / "run"),
        STAFF_DB_URL=f"sqlite:///{directory / 'staff.db'}", LOG_LEVEL="WARNING",
        RASA_AUTH_TOKEN="bench-token", BACKEND_SERVICE_TOKEN="bench-service-token",
        REST_CHANNEL_SECRET=REST_HEADERS[REST_SECRET_HEADER],
        BACKEND_ID_HASH_KEY="bench-id-hash-key", RASA_TELEMETRY_ENABLED="false",
        # The form turns start a verification for the same demo holder again and again: the
        # SMS quotas that stop a flood would turn them into "too many codes" replies.
        SMS_CODES_PER_IDENTITY_HOUR="1000", SMS_CODES_PER_PHONE_DAY="1000",
    )
    env.update(overrides)
    launched = time.perf_counter()
    process = launch_product(env, directory / "launcher.out", timeout=600, root=root)
    url = f"http://127.0.0.1:{env['RASA_PORT']}/webhooks/rest/webhook"
    while True:  # READY means healthy; the first reply is what a person waits for
        try:
            reply = httpx.post(url, json={"sender": "cold-start", "message": "补办的社保卡需要重新激活吗?"},
                               headers=REST_HEADERS, timeout=60)
            if reply.status_code == 200 and reply.json():
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return Product(name, env, process, directory, time.perf_counter() - launched)


def shared_stores(tracker_url: str, redis_db: int, replicas: int = 2) -> Dict[str, str]:
    """The settings of `make cluster` for `start`: `replicas` Rasa and action servers
    behind nginx, the tracker store at `tracker_url`, the locks in Redis database `redis_db`
    (one of its own for each product running at once)."""
    return {"RASA_REPLICAS": str(replicas), "ACTION_SERVER_REPLICAS": str(replicas), "TRACKER_DB_URL": tracker_url,
            "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}"}


@contextlib.contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A new database on the machine's PostgreSQL (URL), dropped afterwards."""
    import psycopg2

    name = f"{prefix}_{secrets.token_hex(4)}"
    url = f"postgresql://helpdesk@127.0.0.1:5432/{name}"  # password: PGPASSFILE (scripts/ensure_services.sh)
    ensure_postgres_database(url)
    try:
        yield url
    finally:
        connection = psycopg2.connect(host="127.0.0.1", port=5432, dbname="postgres", user="helpdesk",
                                      passfile=settings.resolved()["PGPASSFILE"])
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.close()
