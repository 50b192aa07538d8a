"""Replicas behind nginx: what `make run` adds when RASA_REPLICAS or
ACTION_SERVER_REPLICAS is above 1 (`make cluster` sets both to 2).

nginx (Debian's package, run as a child of the launcher with a configuration
written under RUN_DIR) listens where the single processes would
(RASA_PORT, ACTION_SERVER_PORT) and balances over the replicas, which listen
on free loopback ports. Replicas share nothing but the stores: the tracker
store (TRACKER_DB_URL, PostgreSQL) and the conversation locks (REDIS_URL), so
any replica can serve any turn of any conversation.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Dict, List
from urllib.parse import urlsplit

from bot.ops.processes import Service

# A request is passed to another replica on a failed connection or a 503, and an
# action server that failed is skipped for FAIL_TIMEOUT_SECONDS; an action call
# already sent is never sent twice (the client gets 502). For Rasa, POSTs are passed
# on too (non_idempotent): a replica loading a new model answers 503
# (bot/rasa_ext/model_reload.py), as does a full turn queue or a turn that failed,
# which the client is told to send again anyway; a turn in flight on a replica that
# dies goes to the other. A Rasa replica is never taken out (max_fails=0): the
# replicas run on this machine, where a refused connection or a 503 costs
# nothing, and with both out for a few seconds after both answered 503 (the
# tracker store away), the first turns after it came back would have failed.
FAIL_TIMEOUT_SECONDS = 5
# Rasa's turn waits for its action calls; an action waits for the backend.
READ_TIMEOUT_SECONDS = 120


def replicas(env: Dict[str, str], name: str) -> int:
    try:
        count = int(env[name])
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {env[name]!r}") from None
    if not 1 <= count <= 16:
        raise SystemExit(f"{name} must be between 1 and 16")
    return count


def _upstream(name: str, host: str, ports: List[int], max_fails: int = 1) -> str:
    # least_conn: a request goes to the replica with the fewest in flight. Round robin gave a
    # replica stalled for a moment (a full garbage collection, the core taken by a neighbour)
    # every second turn all the same, to wait in its queue: the cluster's p99 at 50 users was
    # up to 4.4 x its p50 (README, benchmarks; tests/cluster/test_faults.py).
    servers = "\n".join(
        f"        server {host}:{port} max_fails={max_fails} fail_timeout={FAIL_TIMEOUT_SECONDS}s;" for port in ports
    )
    return f"    upstream {name} {{\n        least_conn;\n{servers}\n        keepalive 32;\n    }}\n"


# What nginx answers for Rasa when no replica could answer (all down, or all
# refused the request within their fail_timeout): the REST channel's own 503,
# not nginx's HTML 502 page.
_RASA_UNAVAILABLE = ('{"error": {"code": "unavailable", "message": "The assistant cannot answer right now; '
                     'the message was not processed, please send it again."}}')


def _server(host: str, port: str, upstream: str, rasa: bool = False) -> str:
    posts, on_error, unavailable = "", "", ""
    if rasa:
        posts, on_error = " non_idempotent", "\n            error_page 502 504 = @unavailable;"
        unavailable = f"""        location @unavailable {{
            default_type application/json;
            add_header Retry-After 1 always;
            return 503 '{_RASA_UNAVAILABLE}';
        }}
"""
    return f"""    server {{
        listen {host}:{port};
        location / {{
            proxy_pass http://{upstream};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_next_upstream error timeout http_502 http_503{posts};
            proxy_connect_timeout 2s;
            proxy_read_timeout {READ_TIMEOUT_SECONDS}s;{on_error}
        }}
{unavailable}    }}
"""


def nginx_config(env: Dict[str, str], rasa_ports: List[int], action_ports: List[int], run_dir: Path,
                 log_dir: Path) -> str:
    """nginx.conf for the front of the replicas (only the tiers that have more than one)."""
    host = env["HELPDESK_HOST"]
    temp = run_dir / "nginx"
    blocks = ""
    if len(rasa_ports) > 1:
        blocks += _upstream("rasa_servers", host, rasa_ports, max_fails=0) + _server(host, env["RASA_PORT"], "rasa_servers", rasa=True)
    if len(action_ports) > 1:
        blocks += _upstream("action_servers", host, action_ports) + _server(
            host, env["ACTION_SERVER_PORT"], "action_servers")
    temp_paths = "\n".join(
        f"    {kind}_temp_path {temp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # The access log names the replica that served each request; it holds no
    # message text (REST messages travel in bodies) and no query string (Rasa's
    # API takes its auth token there).
    return f"""# Written by the launcher at each start (bot/ops/cluster.py); edits are lost.
worker_processes 1;
daemon off;
pid {run_dir / 'nginx.pid'};
error_log {log_dir / 'nginx-error.log'} warn;
events {{
    worker_connections 1024;
}}
http {{
    log_format replicas '$remote_addr [$time_local] "$request_method $uri" $status $upstream_addr $request_time';
    access_log {log_dir / 'nginx-access.log'} replicas;
    # Bodies and replies stay in memory: the workers (user nobody when the
    # launcher runs as root) need no access to files under RUN_DIR.
    client_max_body_size 1m;
    client_body_buffer_size 1m;
    proxy_buffering off;
    proxy_max_temp_file_size 0;
{temp_paths}
{blocks}}}
"""


def nginx(env: Dict[str, str], rasa_ports: List[int], action_ports: List[int], run_dir: Path,
          log_dir: Path) -> Service:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise SystemExit("nginx is not installed: `apt-get install nginx-light` (scripts/ensure_services.sh does it)")
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (run_dir / "nginx" / kind).mkdir(parents=True, exist_ok=True)
    config = run_dir / "nginx.conf"
    config.write_text(nginx_config(env, rasa_ports, action_ports, run_dir, log_dir))
    port = env["RASA_PORT"] if len(rasa_ports) > 1 else env["ACTION_SERVER_PORT"]
    health = f"http://{env['HELPDESK_HOST']}:{port}/" + ("" if len(rasa_ports) > 1 else "health")
    return Service("nginx", [binary, "-c", str(config), "-e", str(log_dir / "nginx-error.log")],
                   health, log_dir / "nginx.out")


def ensure_postgres_database(url: str) -> None:
    """Creates the database a postgresql:// URL names if it does not exist
    (Rasa's tracker store and the backend create their tables, not databases)."""
    if not url.startswith("postgresql"):
        return
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(url)
    database = parts.path.lstrip("/")
    connection = psycopg2.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username, password=parts.password,
        dbname="postgres", connect_timeout=5,
    )
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    finally:
        connection.close()
