"""`python -m bot reload`: every running Rasa server loads the newest model, one at a time.

The Rasa servers are the launcher's (RUN_DIR/processes.json: "rasa server" or
"rasa server-1", "rasa server-2", ... with their own addresses), else the one
at RASA_URL. Each is asked to reload (POST /helpdesk/reload,
bot/rasa_ext/model_reload.py) and watched (GET /helpdesk/ready) until it
serves again with the new model; only then is the next one asked, so there
is always a replica serving at full speed. A reload that fails stops here:
that replica goes on with its old model, the others are not touched.

A replica that loads answers turns 503 and nginx passes them to the other
(bot/ops/cluster.py); nginx never takes a Rasa replica out of its rotation,
so the next one may start as soon as the previous one serves again.

The web process's admin button runs the same (bot/web/staff/model_routes.py).
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import httpx

from bot.core.service_auth import bearer_header

SETTLE_SECONDS = 0.0  # between two servers
RELOAD_TIMEOUT_SECONDS = 600  # a model loads in 20-60 s; a busy machine may take several times that
POLL_SECONDS = 0.5


@dataclass
class Replica:
    name: str
    url: str  # the server's own address, not nginx's


@dataclass
class Outcome:
    name: str
    result: str  # "ok" | "failed" | "unreachable" | "timeout"
    model_file: Optional[str] = None
    model_id: Optional[str] = None
    previous_model_id: Optional[str] = None
    seconds: Optional[float] = None  # the load, as the server measured it
    error: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        if self.result != "ok":
            return f"{self.name}: {self.result}" + (f" ({self.error})" if self.error else "")
        changed = "new model" if self.model_id != self.previous_model_id else "same model"
        return (f"{self.name}: {self.model_file} loaded in {self.seconds:.1f} s, model id {self.model_id} "
                f"({changed}; was {self.previous_model_id})")


def replicas(env: Dict[str, str]) -> List[Replica]:
    """The Rasa servers the launcher runs (RUN_DIR/processes.json), else RASA_URL."""
    state = Path(env["RUN_DIR"]) / "processes.json"
    found: List[Replica] = []
    if state.exists():
        for entry in json.loads(state.read_text()):
            name = str(entry.get("name") or "")
            if name == "rasa server" or name.startswith("rasa server-"):
                found.append(Replica(name, str(entry["health_url"]).rstrip("/")))
    return found or [Replica("rasa server", env["RASA_URL"].rstrip("/"))]


async def status(client: httpx.AsyncClient, replica: Replica) -> Dict[str, Any]:
    """GET /helpdesk/ready's body (503 while loading has one too); {"state": "unreachable"} if none."""
    try:
        response = await client.get(f"{replica.url}/helpdesk/ready")
        body = response.json()
        return body if isinstance(body, dict) else {"state": "unreachable"}
    except (httpx.HTTPError, ValueError) as error:
        return {"state": "unreachable", "error": type(error).__name__}


async def reload_one(client: httpx.AsyncClient, replica: Replica,
                     timeout: float = RELOAD_TIMEOUT_SECONDS) -> Outcome:
    """Asks one server to reload and waits until it serves again; what happened."""
    try:
        response = await client.post(f"{replica.url}/helpdesk/reload")
    except httpx.HTTPError as error:
        return Outcome(replica.name, "unreachable", error=type(error).__name__)
    if response.status_code != 202:
        return Outcome(replica.name, "failed", error=f"HTTP {response.status_code}: {response.text[:200]}")
    number = response.json()["reload"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await asyncio.sleep(POLL_SECONDS)
        body = await status(client, replica)
        last = body.get("last_reload") or {}
        if body.get("state") == "serving" and last.get("number", 0) >= number:
            return Outcome(replica.name, last.get("result", "failed"), last.get("model_file"), last.get("model_id"),
                           last.get("previous_model_id"), last.get("seconds"), last.get("error"))
    return Outcome(replica.name, "timeout", error=f"not serving again within {timeout:.0f} s")


async def reload_all(env: Dict[str, str], report: Callable[[str], None] = print,
                     settle: float = SETTLE_SECONDS) -> List[Outcome]:
    """Every Rasa server in turn; stops at the first that does not serve again with the new model."""
    servers = replicas(env)
    outcomes: List[Outcome] = []
    async with httpx.AsyncClient(timeout=10, headers=bearer_header(env["RASA_AUTH_TOKEN"])) as client:
        for index, replica in enumerate(servers):
            if index and settle:
                await asyncio.sleep(settle)  # nginx takes the previous one back first
            report(f"{replica.name}: loading the newest model...")
            outcome = await reload_one(client, replica)
            outcomes.append(outcome)
            report(outcome.line())
            if outcome.result != "ok":
                report("stopped: the servers not yet reloaded keep their model")
                break
    return outcomes


# Where the launcher keeps the Rasa API token it made for this machine (var/secrets/, mode 0600) when RASA_AUTH_TOKEN is unset.
RASA_TOKEN_FILE = "rasa_auth_token"


def api_token(env: Dict[str, str]) -> str:
    """RASA_AUTH_TOKEN, else the one kept in var/secrets/ (empty if neither)."""
    from bot.core.local_secrets import SECRETS_DIR

    if env.get("RASA_AUTH_TOKEN"):
        return env["RASA_AUTH_TOKEN"]
    try:
        return (SECRETS_DIR / RASA_TOKEN_FILE).read_text().strip()
    except OSError:
        return ""


def main(env: Dict[str, str]) -> int:
    token = api_token(env)
    if not token:
        print("RASA_AUTH_TOKEN is not set: give the running product's token (`make run` makes a random one per "
              "start unless it is set)")
        return 2
    started = time.monotonic()
    outcomes = asyncio.run(reload_all({**env, "RASA_AUTH_TOKEN": token}, lambda line: print(line, flush=True)))
    ok = all(o.result == "ok" for o in outcomes)
    print(f"{'reloaded' if ok else 'reload failed'}: {sum(o.result == 'ok' for o in outcomes)} of "
          f"{len(outcomes)} servers in {time.monotonic() - started:.1f} s")
    return 0 if ok else 1


def as_dicts(outcomes: List[Outcome]) -> List[Dict[str, Any]]:
    return [asdict(o) for o in outcomes]
