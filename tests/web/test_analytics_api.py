"""The figures over HTTP (bot/web/staff/analytics_routes.py) from a web process alone whose
tracker store holds the known conversations (tests/insights/known_conversations.py): the indexer
runs in the web process, the figures equal the ones counted by hand, the CSV export says the same,
bad periods are 422, and only reviewers and admins see them (an agent gets 403). Staff database on
SQLite and on PostgreSQL."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from bot.insights.facts import local_day
from tests.insights.known_conversations import EXPECTED, EXPECTED_UNANSWERED, known_events, ratings, write_tracker
from tests.support.web import STAFF_PASSWORD, STAFF_USER, login, staff_database, start_web

PASSWORD = "a-long-enough-password"
PERIOD = "/api/staff/analytics?from=2026-03-10&to=2026-03-11"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def web(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp(f"analytics-{request.param}")
    convs = known_events()
    write_tracker(directory / "tracker.db", convs["_events"])
    with staff_database(request.param, directory) as db_url:
        server = start_web(directory, db_url, TRACKER_DB_URL=f"sqlite:///{directory / 'tracker.db'}")
        try:
            for sql, params in ratings(convs):
                server.execute(sql, **params)
            admin = logged_in(server)
            for name, role in (("agent1", "agent"), ("reviewer1", "reviewer")):
                response = admin.post("/api/staff/accounts", json={"username": name, "password": PASSWORD, "role": role})
                assert response.status_code == 201, response.text
            yield server
        finally:
            server.group.stop()


def logged_in(web, username=STAFF_USER, password=STAFF_PASSWORD):
    client = web.client(headers={"Origin": web.url})
    response = login(client, username, password)
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def test_the_figures_are_the_ones_counted_by_hand(web):
    response = logged_in(web, "reviewer1", PASSWORD).get(PERIOD)
    assert response.status_code == 200, response.text
    figures = response.json()
    unanswered = figures.pop("unanswered")
    assert figures.pop("indexed_event_id") > 0
    assert figures == EXPECTED
    assert [(u["text"], u["language"], u["count"], u["outcome"]) for u in unanswered] == EXPECTED_UNANSWERED


def test_the_csv_export_says_the_same(web):
    admin = logged_in(web)
    for path in (PERIOD + "&format=csv", PERIOD.replace("analytics?", "analytics.csv?")):
        response = admin.get(path)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-disposition"] == \
            'attachment; filename="helpdesk-figures_2026-03-10_2026-03-11.csv"'
        assert response.content.startswith("\ufeff".encode())  # spreadsheets read it as UTF-8
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0] == ["section", "key", "metric", "value"]
        for row in (["summary", "", "conversations", "4"], ["summary", "", "contained_rate", "0.5"],
                    ["summary", "", "median_handoff_wait_s", "60.0"], ["summary", "", "csat_average", "3.0"],
                    ["day", "2026-03-11", "fallback_rate", "0.5"], ["channel", "wechat", "conversations", "1"],
                    ["top_topic", "reissue_fee", "count", "2"], ["topic_feedback", "nlu_fallback", "down", "1"],
                    ["csat", "5", "ratings", "1"], ["unanswered", "asdfgh!", "count", "2"],
                    ["outcome", "held", "turns", "1"]):
            assert row in rows


def test_a_period_that_is_not_one_is_422_and_none_is_the_last_30_days(web):
    admin = logged_in(web)
    for query in ("from=2026-13-01", "from=2026-03-11&to=2026-03-10", "from=yesterday", "to=2026-3-1",
                  "from=2020-01-01&to=2026-01-01", "from=2026-03-10&from=2026-03-11"):
        response = admin.get("/api/staff/analytics?" + query)
        assert response.status_code == 422, query
        assert response.json()["error"]["code"] == "invalid_period"
    for query in ("since=2026-03-10", "format=xml"):
        assert admin.get("/api/staff/analytics?" + query).json()["error"]["code"] == "invalid_request"
    figures = admin.get("/api/staff/analytics").json()
    today = local_day(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
    assert (figures["from"], figures["to"]) in {((today - dt.timedelta(days=29)).isoformat(), today.isoformat()),
                                                ((today - dt.timedelta(days=28)).isoformat(),
                                                 (today + dt.timedelta(days=1)).isoformat())}  # midnight passed
    assert len(figures["days"]) == 30 and figures["conversations"] == 0


def test_only_reviewers_and_admins_see_the_figures(web):
    agent = logged_in(web, "agent1", PASSWORD)
    for path in (PERIOD, PERIOD + "&format=csv", "/api/staff/analytics.csv", "/staff/analytics"):
        response = agent.get(path)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "forbidden"
    with web.client() as anonymous:
        assert anonymous.get(PERIOD).status_code == 401
        page = anonymous.get("/staff/analytics", follow_redirects=False)
        assert (page.status_code, page.headers["location"]) == (303, "/staff/login")
    for user, password in (("reviewer1", PASSWORD), (STAFF_USER, STAFF_PASSWORD)):
        page = logged_in(web, user, password).get("/staff/analytics")
        assert page.status_code == 200 and "/static/charts.js" in page.text
