"""The figures with 100 000 conversations in PostgreSQL (issue 13: the page answers in under a second).

    .venv/bin/python -m bench.bench_analytics [--conversations 100000] [--days 90] [--requests 30] [--keep]

Makes a fresh database on the machine's PostgreSQL (scripts/ensure_services.sh: the role `helpdesk`,
its password in PGPASSFILE), fills the facts tables directly (COPY) with that many conversations
spread over the last `--days` days (web 70 %, WeChat 30 %; 1-6 citizen messages each; outcomes,
topics, hand-overs and waits, ratings and up/down drawn at fixed rates from a seeded generator),
starts the web process on it (its indexer finds no tracker store: nothing to add) and times
GET /api/staff/analytics as the page calls it, logged in as an admin: the last 30 days (the page's
default), the whole period, and the CSV export. Prints p50 / p95 of each and writes
bench/results/analytics.json. The database is dropped afterwards unless --keep.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterator, List

import httpx

from bot.core.opaque import conversation_key, hasher
from bot.core.paths import ROOT
from bot.core.settings import resolved
from bot.insights.facts import LOCAL_OFFSET, group_key, local_day
from bot.ops.processes import Service, ServiceGroup, free_port
from bot.web.staff.store import open_store

PG_HOST, PG_PORT, PG_ROLE, PG_ADMIN_DB = "127.0.0.1", 5432, "helpdesk", "test"
RESULTS = ROOT / "bench" / "results" / "analytics.json"
STAFF_USER, STAFF_PASSWORD = "bench-admin", "bench-admin-password"
TARGET_SECONDS = 1.0

TOPICS = ["reissue_how", "reissue_where", "reissue_documents", "reissue_fee", "reissue_time", "activation_how",
          "activation_where", "usage_functions", "usage_other_city", "electronic_card", "password_forgotten",
          "card_expired", "loss_report_how", "first_card", "child_card", "hotline_12333", "legal_basis"]
INTENTS = ["check_card_status", "activate_card", "report_lost_card", "reissue_progress", "human_handoff"]
SMALL = ["greet", "thank", "goodbye"]
UNANSWERED_POOL = 3000


@contextlib.contextmanager
def fresh_database(keep: bool) -> Iterator[str]:
    import psycopg2

    passfile = resolved()["PGPASSFILE"]
    os.environ.setdefault("PGPASSFILE", passfile)
    admin = psycopg2.connect(host=PG_HOST, port=PG_PORT, dbname=PG_ADMIN_DB, user=PG_ROLE, passfile=passfile,
                             connect_timeout=5)
    admin.autocommit = True
    name = f"bench_analytics_{secrets.token_hex(4)}"
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg2://{PG_ROLE}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _copy(cursor, table: str, columns: List[str], rows: List[tuple]) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v).replace("\t", " ").replace("\n", " ") for v in row))
        buffer.write("\n")
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def generate(url: str, conversations: int, days: int, seed: int = 13) -> Dict[str, int]:
    """Fills the facts tables and the ratings; the row counts."""
    import psycopg2

    rng = random.Random(seed)
    opaque = hasher("bench-secret")
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    start = now - dt.timedelta(days=days)
    pool = [f"我想问一下第{n}号问题怎么办" if n % 3 else f"question number {n} about something" for n in
            range(UNANSWERED_POOL)]
    weights = [1 / (rank + 1) for rank in range(len(TOPICS))]
    sessions, turns, feedback, ratings = [], [], [], []
    event_id = 0
    for n in range(conversations):
        key = conversation_key(opaque, f"bench-{n}")
        channel = "web" if rng.random() < 0.7 else "wechat"
        at = start + dt.timedelta(seconds=rng.random() * days * 86400)
        event_id += 1
        session_id = event_id
        count = rng.randint(1, 6)
        handoff_turn = rng.randrange(count) if rng.random() < 0.12 else None
        handoff_at = claimed_at = None
        messages = fallbacks = 0
        for k in range(count):
            at += dt.timedelta(seconds=rng.randint(5, 90))
            event_id += 3
            draw = rng.random()
            if handoff_turn is not None and k > handoff_turn and claimed_at is not None:
                intent = topic = predicted = confidence = None
                outcome, text = "held", "好的，请问还需要什么材料"
            elif k == handoff_turn:
                intent = topic = predicted = "human_handoff"
                confidence, outcome, text = 0.95, "answered", "我要找人工"
            elif draw < 0.10:
                intent, topic, predicted = "nlu_fallback", "nlu_fallback", "faq/" + rng.choice(TOPICS)
                confidence, outcome, text = rng.uniform(0.2, 0.5), "fallback", pool[int(rng.paretovariate(1.2)) % len(pool)]
            elif draw < 0.15:
                intent = topic = predicted = "out_of_scope"
                confidence, outcome, text = rng.uniform(0.6, 0.99), "out_of_scope", pool[rng.randrange(len(pool))]
            elif draw < 0.25:
                intent = topic = predicted = rng.choice(SMALL)
                confidence, outcome, text = 0.97, "answered", "谢谢"
            elif draw < 0.35:
                intent = topic = predicted = rng.choice(INTENTS[:4])
                confidence, outcome, text = rng.uniform(0.55, 0.99), "answered", "帮我查一下社保卡状态"
            else:
                topic = rng.choices(TOPICS, weights)[0]
                intent, predicted, confidence = "faq", "faq/" + topic, rng.uniform(0.4, 0.99)
                outcome, text = "answered", f"{topic} 怎么办"
            if outcome == "answered" and confidence is not None and confidence < 0.6:
                outcome = "low_confidence"
            answer_id = f"b{int(at.timestamp() * 1_000_000) + 1_500_000}"
            rating = rated_at = None
            if outcome in ("answered", "low_confidence", "fallback") and rng.random() < 0.25:
                rating, rated_at = "up" if rng.random() < 0.8 else "down", at + dt.timedelta(seconds=5)
                feedback.append((key, answer_id, rating, rated_at))
            turns.append((event_id, key, session_id, at, local_day(at), channel,
                          "en" if text.startswith("question") else "zh", text, group_key(text), intent, topic,
                          predicted, confidence, outcome, k == handoff_turn, answer_id, "bench-model", rating,
                          local_day(rated_at) if rated_at else None))
            messages += 2
            fallbacks += outcome == "fallback"
            if k == handoff_turn:
                handoff_at = at + dt.timedelta(seconds=2)
                if rng.random() < 0.8:
                    claimed_at = handoff_at + dt.timedelta(seconds=rng.expovariate(1 / 90))
        if rng.random() < 0.2:
            ratings.append((key, rng.choices([1, 2, 3, 4, 5], [1, 1, 2, 4, 6])[0], None, at + dt.timedelta(seconds=30)))
        first = turns[-count][3]
        sessions.append((key, session_id, channel, first, local_day(first), at, messages, count, fallbacks,
                         handoff_at, claimed_at))
    connection = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://"))
    try:
        with connection, connection.cursor() as cursor:
            _copy(cursor, "insight_conversations", ["conversation", "session_id", "channel", "started_at", "day",
                                                    "last_at", "messages", "turns", "fallbacks", "handoff_at",
                                                    "claimed_at"], sessions)
            _copy(cursor, "insight_turns", ["event_id", "conversation", "session_id", "at", "day", "channel", "language",
                                            "text", "norm", "intent", "topic", "predicted", "confidence", "outcome",
                                            "handoff", "answer_id", "model_id", "feedback", "feedback_day"], turns)
            _copy(cursor, "chat_message_feedback", ["conversation", "message_id", "rating", "created_at"], feedback)
            _copy(cursor, "chat_conversation_ratings", ["conversation", "score", "comment", "created_at"], ratings)
            cursor.execute("INSERT INTO insight_progress (name, last_event_id) VALUES ('tracker', %s), ('feedback', %s)",
                           (event_id, len(feedback)))  # all indexed: the facts are the indexer's
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum leaves an insert-only table: index-only scans
    finally:
        connection.close()
    return {"conversations": len(sessions), "turns": len(turns), "feedback": len(feedback), "ratings": len(ratings)}


def start_web(url: str, directory: Path) -> ServiceGroup:
    port = free_port()
    env = dict(os.environ, HELPDESK_HOST="127.0.0.1", WEB_PORT=str(port), WEB_SECRET_KEY="bench-secret",
               STAFF_DB_URL=url, STAFF_USER=STAFF_USER, STAFF_PASSWORD=STAFF_PASSWORD,
               TRACKER_DB_URL=f"sqlite:///{directory / 'no-tracker.db'}", RASA_URL="http://127.0.0.1:9",
               RASA_AUTH_TOKEN="bench", BACKEND_URL="http://127.0.0.1:9", BACKEND_SERVICE_TOKEN="bench",
               LOG_LEVEL="WARNING", SQLALCHEMY_SILENCE_UBER_WARNING="1")
    group = ServiceGroup([Service("web", [sys.executable, "-m", "bot.web", "serve", "--staff-from-env"],
                                  f"http://127.0.0.1:{port}/health", directory / "web.log")], env)
    group.start(timeout=90)
    group.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    return group


def timed(client: httpx.Client, path: str, requests: int) -> Dict[str, float]:
    client.get(path).raise_for_status()  # warm: connections, plans
    seconds = []
    for _ in range(requests):
        begun = time.perf_counter()
        response = client.get(path)
        seconds.append(time.perf_counter() - begun)
        response.raise_for_status()
    seconds.sort()
    return {"p50_ms": round(statistics.median(seconds) * 1000, 1),
            "p95_ms": round(seconds[min(len(seconds) - 1, int(round(0.95 * (len(seconds) - 1))))] * 1000, 1),
            "max_ms": round(seconds[-1] * 1000, 1), "requests": requests}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args(argv)
    with fresh_database(args.keep) as url, tempfile.TemporaryDirectory() as directory:
        open_store(url).dispose()  # the tables, as the web process makes them
        begun = time.perf_counter()
        rows = generate(url, args.conversations, args.days)
        generated = time.perf_counter() - begun
        print(f"generated {rows} in {generated:.1f} s")
        group = start_web(url, Path(directory))
        try:
            with httpx.Client(base_url=group.url, timeout=60, headers={"Origin": group.url}) as client:
                client.post("/api/staff/login", json={"username": STAFF_USER, "password": STAFF_PASSWORD}) \
                    .raise_for_status()
                today = local_day(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
                whole = f"from={(today - dt.timedelta(days=args.days)).isoformat()}&to={today.isoformat()}"
                figures = client.get("/api/staff/analytics").json()
                cases = {
                    "last 30 days (the page's default)": timed(client, "/api/staff/analytics", args.requests),
                    f"all {args.days + 1} days": timed(client, "/api/staff/analytics?" + whole, args.requests),
                    "CSV, last 30 days": timed(client, "/api/staff/analytics.csv", max(5, args.requests // 3)),
                }
        finally:
            group.stop()
    print(f"\n{args.conversations} conversations over {args.days} days in PostgreSQL; "
          f"the last 30 days hold {figures['conversations']} conversations, {figures['turns']} citizen messages")
    print(f"{'GET /api/staff/analytics':40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, result in cases.items():
        print(f"{name:40} {result['p50_ms']:8.1f} {result['p95_ms']:8.1f} {result['max_ms']:8.1f}")
    worst = max(result["p95_ms"] for result in cases.values()) / 1000
    verdict = "met" if worst < TARGET_SECONDS else "MISSED"
    print(f"target: every p95 under {TARGET_SECONDS:.0f} s: {verdict}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "command": "python -m bench.bench_analytics " + " ".join(argv or sys.argv[1:]),
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "conversations": args.conversations, "days": args.days, "rows": rows,
        "generate_seconds": round(generated, 1), "last_30_days": {k: figures[k] for k in ("conversations", "turns")},
        "timings": cases, "target_seconds": TARGET_SECONDS, "target": verdict,
        "local_offset_hours": LOCAL_OFFSET.total_seconds() / 3600,
    }, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    sys.exit(main())
