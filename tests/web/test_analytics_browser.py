"""The figures page in a real headless Chromium (a web process alone whose tracker store holds the
known conversations): a reviewer picks the period, every chart is an SVG with a name and a table of
the same numbers, the summary shows the hand-counted figures, the CSV link follows the period, and
axe-core finds no serious or critical violation (zh and en)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.insights.known_conversations import known_events, ratings, write_tracker
from tests.support.axe import assert_accessible
from tests.support.web import STAFF_PASSWORD, STAFF_USER, start_web

pytestmark = [pytest.mark.browser]

expect.set_options(timeout=30_000)


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    directory = tmp_path_factory.mktemp("analytics-browser")
    convs = known_events()
    write_tracker(directory / "tracker.db", convs["_events"])
    server = start_web(directory, f"sqlite:///{directory / 'staff.db'}",
                       TRACKER_DB_URL=f"sqlite:///{directory / 'tracker.db'}")
    try:
        for sql, params in ratings(convs):
            server.execute(sql, **params)
        yield server
    finally:
        server.group.stop()


def log_in(page, web):
    page.goto(web.url + "/staff/login")
    page.locator("#username").fill(STAFF_USER)
    page.locator("#password").fill(STAFF_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(web.url + "/staff")


@pytest.mark.parametrize("locale, words", [
    ("zh-CN", {"period": "开始日期", "show": "查看", "contained": "自助解决率（未转人工）", "table": "数据表",
               "daily": "每日对话与消息", "csv": "导出 CSV"}),
    ("en-GB", {"period": "From", "show": "Show", "contained": "Contained rate (no person needed)",
               "table": "Data table", "daily": "Conversations and messages per day", "csv": "Export CSV"}),
])
def test_a_reviewer_reads_the_figures_of_a_period(web, open_page, locale, words):
    page = open_page(web.url + "/staff/login", locale=locale)
    log_in(page, web)
    page.goto(web.url + "/staff/analytics")
    expect(page.locator("#analytics-page")).not_to_have_attribute("aria-busy", "true")
    page.get_by_label(words["period"], exact=True).fill("2026-03-10")
    page.get_by_label(words["period"].replace("开始", "结束") if locale == "zh-CN" else "To", exact=True) \
        .fill("2026-03-11")
    with page.expect_response(lambda r: "/api/staff/analytics?from=2026-03-10&to=2026-03-11" in r.url) as answer:
        page.get_by_role("button", name=words["show"]).click()
    assert answer.value.status == 200
    expect(page.locator("#analytics-page")).not_to_have_attribute("aria-busy", "true")
    summary = page.locator("#summary-table")
    expect(summary.get_by_role("row", name=words["contained"])).to_contain_text("50%")
    expect(summary.locator("tbody tr").first).to_contain_text("4")
    charts = page.get_by_role("img", name=words["daily"])
    expect(charts).to_have_count(1)
    assert page.locator("figure svg[role=img]").count() == 6  # daily, rates, topics, CSAT, feedback, channels
    assert page.locator("figure table").count() == 6
    page.get_by_text(words["table"]).first.click()  # the daily chart's table
    daily = page.get_by_role("table", name=words["daily"])
    expect(daily.get_by_role("row")).to_have_count(3)
    expect(daily.get_by_role("row").nth(2)).to_contain_text("11")  # 2026-03-11: 11 messages
    expect(page.locator("#unanswered tr").first).to_contain_text("asdfgh!")
    expect(page.get_by_role("link", name=words["csv"])).to_have_attribute(
        "href", "/api/staff/analytics.csv?from=2026-03-10&to=2026-03-11")
    assert page.url.endswith("/staff/analytics?from=2026-03-10&to=2026-03-11")
    assert_accessible(page, f"the figures page ({locale})")
    for details in page.locator("figure details").all():
        details.evaluate("node => node.open = true")
    assert_accessible(page, f"the figures page with every table open ({locale})")


def test_each_role_finds_its_pages_from_the_console(web, open_page):
    """An admin's console links to the review inbox, the figures and the accounts; a reviewer,
    who may use none of the console's own parts, starts at the review inbox and finds the figures."""
    from tests.support.web import login

    with web.client(headers={"Origin": web.url}) as admin:
        admin.headers["X-CSRF-Token"] = login(admin).json()["csrf_token"]
        created = admin.post("/api/staff/accounts", json={"username": "reviewer-nav", "role": "reviewer",
                                                          "password": "a-long-reviewer-password"})
        assert created.status_code in (201, 409), created.text
    page = open_page(web.url + "/staff/login", locale="en-GB")
    log_in(page, web)
    for name in ("Review inbox", "Figures", "Accounts"):
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(web.url + "/staff/login")
    page.locator("#username").fill("reviewer-nav")
    page.locator("#password").fill("a-long-reviewer-password")
    page.keyboard.press("Enter")
    page.wait_for_url(web.url + "/staff/review")
    page.get_by_role("link", name="Figures", exact=True).click()
    page.wait_for_url(web.url + "/staff/analytics")
    expect(page.locator("#analytics-page")).not_to_have_attribute("aria-busy", "true")
