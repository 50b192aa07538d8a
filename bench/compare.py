"""Before and after a change, measured in one run on one machine (issues 10 and 14).

    git worktree add /tmp/before <commit>       # the code before the change
    (cd /tmp/before && RASA_CACHE_DIRECTORY=$PWD/.rasa/cache \
        python -m bot.rasa_ext.train --fixed-model-name helpdesk --out models)
    .venv/bin/python -m bench.compare /tmp/before [--rounds 2] [--out bench/results/compare.json]

Both products run side by side (each as `make run` starts it, on stores of
its own), and every measurement is taken on one, then on the other, round
after round, so that whatever else the machine does falls on both alike:

- FAQ turns by one user (the p50 of issue 10's "FAQ p50 <= 20 ms");
- FAQ and form turns by 50 users, each with a client that keeps its
  connection and with one that opens a connection per message (issue 14's
  throughput and fairness: turns per second, p99 against p50);
- the Rasa server's CPU time per turn over each run (/proc: every thread).

With `--cluster`, each side runs as `make cluster` does (two Rasa and two
action server replicas behind nginx, a PostgreSQL tracker store of its own, its
own Redis database for the locks): the same runs at 50 users, through nginx
(the CPU column is then the first replica's).

Prints a line per run and writes the rows, with the machine, as JSON.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import growth, load, products, report
from bot.core.paths import ROOT

# (kind, client, users, turns per user)
RUNS = (
    ("faq", load.KEEP_ALIVE, 1, 200),
    ("faq", load.KEEP_ALIVE, 50, 12),
    ("faq", load.CONNECTION_PER_REQUEST, 50, 12),
    ("form", load.KEEP_ALIVE, 50, 8),
    ("form", load.CONNECTION_PER_REQUEST, 50, 8),
)
CLUSTER_RUNS = tuple(run for run in RUNS if run[2] == 50)
CLUSTER_REDIS_DBS = {"before": 10, "after": 11}  # make bench uses 12; the tests 0, 13 and 14


def measure(product: products.Product, kind: str, client: str, users: int, turns: int) -> dict:
    rasa = growth.Target.of(product)
    cpu = rasa.cpu_seconds()
    result = load.run(product.rasa_url, kind, users, turns, client=client)
    cpu_ms_per_turn = (rasa.cpu_seconds() - cpu) * 1000 / max(result.turns, 1)
    return {"system": product.name, **result.summary(), "rasa_cpu_ms_per_turn": round(cpu_ms_per_turn, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="a checkout of the code before, with its models/helpdesk.tar.gz")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "compare.json")
    parser.add_argument("--cluster", action="store_true", help="each side as `make cluster` runs it")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-compare-"))
    started = []
    with contextlib.ExitStack() as stores:
        try:
            for name, root in (("before", args.before.resolve()), ("after", ROOT)):
                overrides = {}
                if args.cluster:
                    tracker_url = stores.enter_context(products.postgres_database(f"compare_{name}"))
                    overrides = products.shared_stores(tracker_url, redis_db=CLUSTER_REDIS_DBS[name])
                started.append(products.start(name, root / "models", scratch / name, root=root, **overrides))
            rows, machine_speed = _measure_in_turn(started, CLUSTER_RUNS if args.cluster else RUNS, args.rounds)
        finally:
            for product in started:
                product.stop()
            shutil.rmtree(scratch, ignore_errors=True)
    args.out.write_text(json.dumps({
        "what": f"before ({args.before}) and after ({ROOT}), run by run in turn" + (", each a cluster" if args.cluster else ""),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": report.machine(),
        "machine_speed_ms": machine_speed, "rows": rows,
    }, indent=1, ensure_ascii=False) + "\n")
    return 0


def _measure_in_turn(started, runs, rounds):
    """Every run on one product, then on the other, round after round."""
    rows = []
    speed_at_start = report.machine_speed_ms()
    for round_ in range(rounds):
        for kind, client, users, turns in runs:
            for product in started:
                rows.append({"round": round_, **measure(product, kind, client, users, turns)})
                row = rows[-1]
                print(f"{row['system']:<7} {kind:<5} {users:>3} users ({client}): p50 {row['p50_ms']} ms, "
                      f"p95 {row['p95_ms']}, p99 {row['p99_ms']}, {row['messages_per_s']} turns/s, "
                      f"Rasa CPU {row['rasa_cpu_ms_per_turn']} ms/turn, errors {row['errors']}", flush=True)
    machine_speed = {"start": speed_at_start, "end": report.machine_speed_ms()}
    print(f"machine speed (bench.report.machine_speed_ms, lower is faster): {machine_speed}")
    return rows, machine_speed


if __name__ == "__main__":
    sys.exit(main())
