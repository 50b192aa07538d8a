"""A new model without downtime in the cluster (issue 13): `python -m bot reload`
while citizens send turns through nginx in a loop fails no turn. Each Rasa replica
in turn loads the model while out of service (its turns answered 503, which nginx
passes to the other replica), and is back in service, answering with the model,
before the next one starts. The figures are printed (`pytest -s`)."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.core.paths import ROOT
from tests.support.turn_load import TurnLoad, latency

pytestmark = [pytest.mark.cluster, pytest.mark.product, pytest.mark.postgres, pytest.mark.redis]


def passed_on(log: Path, start: int) -> tuple:
    """(turns nginx passed from one replica to the other, all turns) since byte `start` of its access log."""
    lines = [line for line in log.read_bytes()[start:].decode().splitlines() if "/webhooks/rest/webhook" in line]
    return sum(", " in line for line in lines), len(lines)


def ready(process: dict, token: dict) -> dict:
    """A replica's GET /helpdesk/ready once it answers 200 (a replica an earlier test killed may still be loading)."""
    deadline = time.monotonic() + 300
    while True:
        try:
            answer = httpx.get(f"{process['health_url'].rstrip('/')}/helpdesk/ready", headers=token, timeout=30)
            if answer.status_code == 200 or time.monotonic() > deadline:
                return answer.json()
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
        time.sleep(1)


def test_a_rolling_reload_under_load_fails_no_turn(cluster):
    product = cluster.product
    token = {"Authorization": f"Bearer {product.env['RASA_AUTH_TOKEN']}"}
    replicas = [p for p in cluster.processes() if p["name"].startswith("rasa server-")]
    assert len(replicas) == 2
    before = {p["name"]: ready(p, token) for p in replicas}
    log = Path(product.env["LOG_DIR"]) / "nginx-access.log"
    start = log.stat().st_size
    with TurnLoad(product.rasa_url, product.rest_headers, clients=4, prefix="reload-cluster") as load:
        load.wait_for(8)
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "bot", "reload"], cwd=ROOT, env=product.env,
                              capture_output=True, text=True, timeout=1200)
        ended = time.monotonic()
        load.wait_for(8)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not load.failures(), load.failures()
    during = load.overlapping(started, ended)
    baseline = [s for s in load.sent if s.ended < started]
    moved, turns = passed_on(log, start)
    # Each replica reloaded once more, in turn, and serves again.
    for process in replicas:
        after = ready(process, token)
        earlier = before[process["name"]]["last_reload"]
        assert after["ready"] and after["last_reload"]["result"] == "ok", after
        assert after["last_reload"]["number"] == (earlier["number"] if earlier else 0) + 1
    lines = [line for line in done.stdout.splitlines() if "loaded in" in line]
    assert [line.split(":")[0] for line in lines] == ["rasa server-1", "rasa server-2"], done.stdout
    assert moved >= 1, "no turn reached a replica while it loaded: the test proved nothing"
    print(f"\ncluster: `python -m bot reload` took {ended - started:.1f} s; turns before: {latency(baseline)}; "
          f"during the reload: {latency(during)}; passed on by nginx from a loading replica: {moved} of {turns}; "
          f"failed: {len(load.failures())} of {len(load.sent)}\n" + done.stdout)
