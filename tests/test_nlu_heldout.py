"""The issue's quality targets, on the held-out set the model never saw."""
import asyncio

import pytest

from bot.evaluation import OUT_OF_SCOPE, evaluate, heldout_sets
from tests.conftest import MODEL


@pytest.fixture(scope="module")
def reports():
    return {r.language: r for r in asyncio.run(evaluate(str(MODEL), heldout_sets()))}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_accuracy_per_language_is_at_least_95_percent(reports, language):
    report = reports[language]
    assert report.accuracy >= 0.95, list(report.errors())


def test_out_of_scope_recall_is_at_least_90_percent(reports):
    pairs = [(g, p) for r in reports.values() for g, p in zip(r.gold, r.predicted)]
    hits = [p == OUT_OF_SCOPE for g, p in pairs if g == OUT_OF_SCOPE]
    assert sum(hits) / len(hits) >= 0.90
