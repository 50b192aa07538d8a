"""`python -m bot run`: start the whole product on loopback and keep it running.

Starts the card-status backend (in development mode seeding an empty
database with the demo data), the action server and the Rasa server (REST channel) with the latest
trained model, waits until each is healthy, prints the URLs, and on Ctrl-C
(SIGINT) or SIGTERM stops them all. `python -m bot shell` starts the action
server and talks to the assistant in the terminal.

What the product writes is for its own user only (umask 077, inherited by
every process started here), and secrets reach the processes through the
environment, never their command lines (`ps` shows those to every user).
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

from bot.core import settings
from bot.core.local_secrets import setting_or_local_secret
from bot.core.paths import VAR
from bot.ops import cluster
from bot.ops.processes import Service, ServiceGroup, free_port
from bot.ops.reload import RASA_TOKEN_FILE
from bot.ops.retention import DailyPurge


def latest_model(model_dir: str) -> Path:
    models = sorted(Path(model_dir).glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit(f"no trained model in {model_dir}: run `make train` first")
    return models[-1]


# Files the product creates: no group or other bits.
UMASK = 0o077


def action_server(env: Dict[str, str], log_dir: Path, port: str = "", replica: str = "") -> Service:
    port = port or env["ACTION_SERVER_PORT"]
    return Service(
        f"action server{replica}",
        [sys.executable, "-m", "bot.rasa_ext.action_server", "--actions", "actions", "--port", port],
        f"http://{env['HELPDESK_HOST']}:{port}/health",
        log_dir / f"actions{replica}.log",
    )


def rasa_server(env: Dict[str, str], log_dir: Path, port: str = "", replica: str = "") -> Service:
    host, port = env["HELPDESK_HOST"], port or env["RASA_PORT"]
    return Service(
        f"rasa server{replica}",
        # RASA_AUTH_TOKEN goes by the environment (bot/rasa_ext/rasa_server.py)
        [sys.executable, "-m", "bot.rasa_ext.rasa_server", "run", "--enable-api",
         "--model", str(latest_model(env["MODEL_DIR"])),
         "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
         "--interface", host, "--port", port,
         "--log-file", str(log_dir / f"rasa{replica}.log")],
        f"http://{host}:{port}/",
        log_dir / f"rasa{replica}.out",
    )


def backend(env: Dict[str, str], log_dir: Path) -> Service:
    command = [sys.executable, "-m", "bot.backend", "serve"]
    if env["BACKEND_MODE"] == "development":
        command.append("--seed-if-empty")  # the demo identities of the README
    return Service("card backend", command, f"{env['BACKEND_URL']}/health", log_dir / "backend.log")


def web(env: Dict[str, str], log_dir: Path) -> Service:
    # The widget and the staff lookup; it calls Rasa only per request, so it may start before Rasa is up.
    # --staff-from-env creates (or resets) the account STAFF_USER / STAFF_PASSWORD when both are set.
    return Service(
        "web",
        [sys.executable, "-m", "bot.web", "serve", "--staff-from-env"],
        f"http://{env['HELPDESK_HOST']}:{env['WEB_PORT']}/health",
        log_dir / "web.log",
    )


# The product's public ports, as the settings name them (RASA_PORT, WEB_PORT...).
PUBLIC_PORTS = tuple(s.name for s in settings.SETTINGS if s.name.endswith("_PORT"))


def _replicated(factory, env: Dict[str, str], log_dir: Path, count: int) -> Tuple[List[Service], List[int]]:
    """One process on its public port, or `count` replicas on free loopback ports (nginx in front)."""
    if count == 1:
        return [factory(env, log_dir)], []
    # Never one of the product's public ports: they are chosen elsewhere (the settings, or the
    # process that started this one) and their servers may not be listening yet.
    public = {int(env[name]) for name in PUBLIC_PORTS if env.get(name, "").isdigit()}
    ports = [free_port(env["HELPDESK_HOST"], avoid=public) for _ in range(count)]
    return [factory(env, log_dir, str(port), f"-{i + 1}") for i, port in enumerate(ports)], ports


def services(env: Dict[str, str], log_dir: Path) -> List[Service]:
    """The processes in start order; with RASA_REPLICAS / ACTION_SERVER_REPLICAS
    above 1, replicas behind nginx (bot/ops/cluster.py)."""
    actions, action_ports = _replicated(action_server, env, log_dir, cluster.replicas(env, "ACTION_SERVER_REPLICAS"))
    rasa, rasa_ports = _replicated(rasa_server, env, log_dir, cluster.replicas(env, "RASA_REPLICAS"))
    front = []
    if rasa_ports or action_ports:
        front = [cluster.nginx(env, rasa_ports, action_ports, Path(env["RUN_DIR"]), log_dir)]
    return [backend(env, log_dir), *actions, *rasa, *front, web(env, log_dir)]


def restrict(path: Path) -> None:
    """Removes group and other permissions from `path` and everything under it
    (files an earlier start made before the umask existed)."""
    if not path.exists():
        return
    for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
        if not item.is_symlink() and item.stat().st_mode & 0o077:
            item.chmod(item.stat().st_mode & ~0o077 & 0o7777)


def prepare_environment() -> Dict[str, str]:
    os.umask(UMASK)
    env = settings.apply_defaults()
    # Secrets that only these processes share: random per start unless set. The Rasa API token
    # is kept in var/secrets/ (0600) instead, so that `python -m bot reload` in another shell
    # of this machine can reach the running servers.
    for name in ("BACKEND_SERVICE_TOKEN", "REST_CHANNEL_SECRET", "ACTION_SERVER_SECRET"):
        if not env[name]:
            env[name] = os.environ[name] = secrets.token_urlsafe(24)
    env["RASA_AUTH_TOKEN"] = os.environ["RASA_AUTH_TOKEN"] = setting_or_local_secret(env["RASA_AUTH_TOKEN"],
                                                                                     RASA_TOKEN_FILE)
    os.environ["SANIC_HOST"] = env["HELPDESK_HOST"]  # rasa_sdk binds to it
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    Path(env["TRACKER_DB"]).parent.mkdir(parents=True, exist_ok=True)
    Path(env["RUN_DIR"]).mkdir(parents=True, exist_ok=True)
    restrict(VAR)  # only our own directory: LOG_DIR and the databases may be set to shared places
    for name in ("TRACKER_DB_URL", "BACKEND_DB_URL"):
        cluster.ensure_postgres_database(env[name])
    return dict(os.environ)


def _log_dir() -> Path:
    log_dir = Path(os.environ["LOG_DIR"])
    log_dir.mkdir(parents=True, exist_ok=True)
    return log_dir


def ignore_further_signals() -> None:
    """Once a stop has begun nothing may interrupt it: make forwards a process
    group's SIGTERM to us, so a process manager's one SIGTERM arrives twice, and a
    second KeyboardInterrupt inside group.stop() left the children (each in its own
    session) running on their ports."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def shell() -> int:
    env = prepare_environment()
    log_dir = _log_dir()
    group = ServiceGroup([action_server(env, log_dir)], env)
    try:
        group.start()
        return subprocess.call(
            [sys.executable, "-m", "bot.rasa_ext.rasa_server", "shell", "--model", str(latest_model(env["MODEL_DIR"])),
             "--endpoints", "endpoints.yml", "--port", env["RASA_PORT"]],
            env=env,
        )
    except KeyboardInterrupt:
        return 0
    finally:
        ignore_further_signals()
        group.stop()


def run() -> int:
    env = prepare_environment()
    log_dir = _log_dir()
    group = ServiceGroup(services(env, log_dir), env)

    def terminate(signum, frame):
        ignore_further_signals()
        raise KeyboardInterrupt

    # SIGTERM behaves like Ctrl-C; SIGINT is set explicitly because a shell
    # that starts us in the background leaves it ignored.
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)
    try:
        print("starting the card backend, the action server, the Rasa server and the web process "
              "(loading the model takes a while)...", flush=True)
        group.start()
        purging = DailyPurge(env, log_dir / "retention.log").start()  # RETENTION_DAYS
        state = Path(env["RUN_DIR"]) / "processes.json"
        group.write_state(state)
        host = env["HELPDESK_HOST"]
        replicas = [s.name for s in group.services if s.name[-2:-1] == "-"]
        print(
            "READY\n"
            f"  chat widget:    http://{host}:{env['WEB_PORT']}/\n"
            f"  staff lookup:   http://{host}:{env['WEB_PORT']}/staff\n"
            f"  REST channel:   POST http://{host}:{env['RASA_PORT']}/webhooks/rest/webhook\n"
            f"  WeChat:         GET/POST http://{host}:{env['RASA_PORT']}/webhooks/wechat/webhook  (docs/WECHAT.md)\n"
            f"  card backend:   {env['BACKEND_URL']}  (API: {env['BACKEND_URL']}/openapi.json)\n"
            f"  action server:  http://{host}:{env['ACTION_SERVER_PORT']}/health\n"
            f"  logs:           {log_dir}   processes: {state}\n"
            + (f"  behind nginx:   {', '.join(replicas)}\n" if replicas else "")
            + "Press Ctrl-C to stop.",
            flush=True,
        )
        try:
            return group.supervise(on_change=lambda: group.write_state(state))
        finally:
            purging.stop()
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
        return 0
    except RuntimeError as error:
        print(f"failed to start: {error}", file=sys.stderr)
        return 1
    finally:
        ignore_further_signals()
        group.stop()
