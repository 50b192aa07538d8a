"""NLU on the sets never trained on (validation, citizen): our config, Rasa's default pipeline, BM25.

Both Rasa configs are trained here on the same data/ (the whole model, NLU
and dialogue, as `make train` trains it: the training time is that), then
parsed message by message with bench/evaluation.py, the code `make eval` uses.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

from bench.evaluation import SETS, Report, evaluate_agent, load_agent
from bot.core.paths import ROOT
from bench.bm25_baseline import Bm25Classifier, training_examples

MODELS = ROOT / "bench" / ".models"


def train(name: str, config: Path, reuse: bool) -> Dict:
    """Trains `config` into bench/.models/<name>/; with `reuse`, an existing
    model and its recorded training time are used instead."""
    out = MODELS / name
    model, record = out / f"{name}.tar.gz", out / "training.json"
    if reuse and model.exists() and record.exists():
        return {**json.loads(record.read_text()), "reused": True}
    out.mkdir(parents=True, exist_ok=True)
    model.unlink(missing_ok=True)
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")
    started = time.perf_counter()
    # As `make train` trains (bot/rasa_ext/train.py); --force: no cached graph components,
    # so the time is a whole training.
    subprocess.run(
        [sys.executable, "-m", "bot.rasa_ext.train", "--config", str(config), "--out", str(out),
         "--fixed-model-name", name, "--force"],
        cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    info = {"model": str(model), "training_seconds": round(time.perf_counter() - started, 1),
            "trained_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    record.write_text(json.dumps(info))
    return {**info, "reused": False}


def _rows(system: str, name: str, reports: List[Report], training_seconds: float) -> List[Dict]:
    return [{"system": system, "set": name, **r.summary(), "training_seconds": training_seconds} for r in reports]


def evaluate_rasa(system: str, model: str, training_seconds: float) -> List[Dict]:
    agent = load_agent(model)
    return [row for name, sets in SETS.items()
            for row in _rows(system, name, asyncio.run(evaluate_agent(agent, sets())), training_seconds)]


def evaluate_bm25() -> List[Dict]:
    classifier = Bm25Classifier(training_examples())
    rows = []
    for name, sets in SETS.items():
        reports = []
        for language, examples in sets().items():
            report = Report(language)
            for text, label in examples:
                report.texts.append(text)
                report.gold.append(label)
                report.predicted.append(classifier.predict(text))
            reports.append(report)
        rows += _rows("BM25 keywords", name, reports, round(classifier.training_seconds, 1))
    return rows
