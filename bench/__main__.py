"""`make bench` (`python -m bench`): every benchmark in one run, side by side.

    python -m bench                 train both configs, measure everything (35-75 min on 2 cores)
    python -m bench --reuse-models  use models bench/ trained before (and their recorded training time)
    python -m bench --quick         fewer requests per level (a smoke run)
    python -m bench --only growth   turn cost against conversation length alone, with models/helpdesk.tar.gz
                                    (bench/results/growth.{json,md}; the README is left as it is)

Prints the tables, writes bench/results/latest.{json,md} and bench/results/bench.png,
and puts the tables into the README between the bench markers.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import growth, load, nlu, products, report
from bot.core.paths import ROOT

# (client, users): keep-alive at three levels, and a new connection for every message at 50.
SPEED_RUNS = ((load.KEEP_ALIVE, 1), (load.KEEP_ALIVE, 10), (load.KEEP_ALIVE, 50), (load.CONNECTION_PER_REQUEST, 50))
SUSTAINED_USERS, SUSTAINED_SECONDS = 200, 60  # "no turn lost": every turn answered, or refused with Retry-After
GROWTH_QUICK = (30, 3)  # FAQ turns, form repetitions


def measure_speed(product: products.Product, turns: dict, kinds=("faq", "form"), runs=SPEED_RUNS) -> list:
    rows = []
    for kind in kinds:
        for client, users in runs:
            result = load.run(product.rasa_url, kind, users, turns[users], client=client)
            rows.append({"system": product.name, **result.summary()})
            _print(rows[-1])
    return rows


def measure_sustained(product: products.Product, seconds: float) -> list:
    rows = []
    for client in (load.KEEP_ALIVE, load.CONNECTION_PER_REQUEST):
        result = load.run(product.rasa_url, "faq", SUSTAINED_USERS, 10**6, client=client, seconds=seconds)
        rows.append({"system": product.name, **result.summary()})
        _print(rows[-1])
    return rows


def _print(row: dict) -> None:
    print(f"  {row['system']:<22} {row['kind']:<5} {row['users']:>3} users ({row['client']}): p50 {row['p50_ms']} ms, "
          f"p95 {row['p95_ms']} ms, p99 {row['p99_ms']} ms, {row['messages_per_s']} msg/s, errors {row['errors']}, "
          f"refused {row['refused']}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse-models", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=["growth"])
    args = parser.parse_args(argv)
    if args.only == "growth":
        return growth_only(args.quick)
    turns = {1: 20, 10: 8, 50: 4} if args.quick else {1: 200, 10: 40, 50: 12}
    results = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": report.machine()}
    speed_at_start = report.machine_speed_ms()

    print("== NLU on the held-out set", flush=True)
    ours = nlu.train("ours", ROOT / "config.yml", args.reuse_models)
    default = nlu.train("default", ROOT / "bench" / "default_config.yml", args.reuse_models)
    results["training"] = {"ours": ours, "default": default}
    results["nlu"] = (nlu.evaluate_rasa("our config", ours["model"], ours["training_seconds"])
                      + nlu.evaluate_rasa("Rasa default pipeline", default["model"], default["training_seconds"])
                      + nlu.evaluate_bm25())

    print("== Conversation speed over REST", flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench-"))
    speed, memory, cold, sustained, growth_rows = [], {}, {}, [], []
    try:
        for name, model in (("our bot", ours["model"]), ("default-pipeline bot", default["model"])):
            product = products.start(name, Path(model).parent, scratch / name.replace(" ", "-"))
            try:
                cold[name] = round(product.started_in, 1)
                speed += measure_speed(product, turns)
                if name == "our bot":  # issue 14's "no turn lost" and growth, on our bot
                    sustained += measure_sustained(product, 10 if args.quick else SUSTAINED_SECONDS)
                    growth_rows += growth.run([product], *GROWTH_QUICK if args.quick else ())
                memory[name] = product.peak_memory_mb()
            finally:
                product.stop()
        # The cluster against one process on the same stores (PostgreSQL, Redis locks).
        for name, replicas in (("our bot, 1 replica on PostgreSQL", 1), ("our bot, cluster (2+2)", 2)):
            with products.postgres_database("bench_tracker") as tracker_url:
                product = products.start(
                    name, Path(ours["model"]).parent, scratch / name.replace(" ", "-"),
                    **products.shared_stores(tracker_url, redis_db=12, replicas=replicas),
                )
                try:
                    cold[name] = round(product.started_in, 1)
                    speed += measure_speed(product, turns, kinds=("faq",), runs=((load.KEEP_ALIVE, 50),))
                    memory[name] = product.peak_memory_mb()
                finally:
                    product.stop()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results.update(speed=speed, memory_mb=memory, cold_start_s=cold, sustained=sustained, growth=growth_rows,
                   machine_speed_ms={"start": speed_at_start, "end": report.machine_speed_ms()})

    report.write(results)
    print(report.markdown(results))
    return 0


def growth_only(quick: bool) -> int:
    """The growth benchmark on the trained model (`make train`), on its own."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-growth-"))
    results = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": report.machine()}
    speed_at_start = report.machine_speed_ms()
    product = products.start("our bot", ROOT / "models", scratch / "our-bot")
    try:
        results["growth"] = growth.run([product], *GROWTH_QUICK if quick else ())
    finally:
        product.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    results["machine_speed_ms"] = {"start": speed_at_start, "end": report.machine_speed_ms()}
    report.write_growth(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
