"""The figures' period and CSV (bot/insights/analytics.py); the figures themselves are checked on a
known set of conversations in test_indexer.py and over HTTP in tests/web/test_analytics_api.py."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from bot.insights import analytics
from bot.insights.analytics import PeriodError, period, to_csv

TODAY = dt.date(2026, 3, 31)


def test_a_period_defaults_to_the_last_30_days():
    assert period(None, None, TODAY) == (dt.date(2026, 3, 2), TODAY)
    assert period("2026-03-01", None, TODAY) == (dt.date(2026, 3, 1), TODAY)
    assert period(None, "2026-02-10", TODAY) == (dt.date(2026, 1, 12), dt.date(2026, 2, 10))
    assert period("2026-04-05", None, TODAY) == (dt.date(2026, 4, 5), dt.date(2026, 4, 5))
    assert period("2026-03-10", "2026-03-10", TODAY) == (dt.date(2026, 3, 10), dt.date(2026, 3, 10))


@pytest.mark.parametrize("start, end", [
    ("2026-02-30", None), ("2026/03/01", None), ("20260301", None), (None, "2026-3-1"), ("2026-03-11", "2026-03-10"),
    ("2024-01-01", "2026-01-01"), ("２０２６-03-01", None),
])
def test_a_period_that_is_not_one_is_refused(start, end):
    with pytest.raises(PeriodError):
        period(start, end, TODAY)


def empty_figures():
    return {"from": "2026-03-10", "to": "2026-03-10", "timezone": "Asia/Shanghai", "conversations": 1, "messages": 2,
            "turns": 1, "contained_rate": 1.0, "fallback_rate": None, "handoffs": 0, "median_handoff_wait_s": None,
            "csat": {"count": 0, "average": None, "distribution": {str(s): 0 for s in range(1, 6)}},
            "feedback": {"up": 0, "down": 0}, "outcomes": {}, "days": [], "channels": [], "top_topics": [],
            "feedback_by_topic": [], "unanswered": [{"text": "=HYPERLINK(\"http://x\")", "count": 2},
                                                    {"text": "-1+2", "count": 1}, {"text": "补卡, \"要钱\"吗", "count": 1}]}


def test_the_csv_never_starts_a_cell_with_a_formula_and_quotes_what_it_must():
    rows = list(csv.reader(io.StringIO(to_csv(empty_figures()))))
    assert rows[0] == list(analytics.CSV_COLUMNS)
    assert ["summary", "", "fallback_rate", ""] in rows  # null: empty
    unanswered = [row[1] for row in rows if row[0] == "unanswered"]
    assert unanswered == ["'=HYPERLINK(\"http://x\")", "'-1+2", "补卡, \"要钱\"吗"]
    assert analytics.csv_name(empty_figures()) == "helpdesk-figures_2026-03-10_2026-03-10.csv"
