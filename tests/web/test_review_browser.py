"""The review inbox page in a real headless Chromium (a web process alone, the facts written by the
test): items grouped by kind, newest first; a label given and an item dismissed from the keyboard,
focus going on to the next item and the status line saying what was done; the refusals said where
they belong; axe-core finds no serious or critical violation in each state (zh and en)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.axe import assert_accessible
from tests.support.web import STAFF_PASSWORD, STAFF_USER
from tests.web.test_review_api import add_turns, start_review_web

pytestmark = [pytest.mark.browser]

expect.set_options(timeout=30_000)


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    directory = tmp_path_factory.mktemp("review-browser")
    server = start_review_web(directory, f"sqlite:///{directory / 'staff.db'}")
    yield server
    server.group.stop()


@pytest.fixture(autouse=True)
def inbox(web):
    web.execute("DELETE FROM review_items")
    add_turns(web, ("社保卡能不能当公交卡刷", "fallback", 1, {}),
              ("天气怎么样", "out_of_scope", 2, {"predicted": "out_of_scope", "confidence": 0.88}),
              ("补卡多少钱来着", "low_confidence", 3, {"intent": "faq", "confidence": 0.42}),
              ("can I pay my rent with it", "fallback", 4, {"language": "en"}))


def open_inbox(open_page, web, locale="zh-CN"):
    page = open_page(web.url + "/staff/login", locale=locale)
    page.locator("#username").fill(STAFF_USER)
    page.locator("#password").fill(STAFF_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(web.url + "/staff")
    page.goto(web.url + "/staff/review")
    return page


def item(page, text):
    return page.locator("li.st-result").filter(has=page.get_by_role("heading", name=text, exact=True))


def test_a_reviewer_labels_and_dismisses_with_the_keyboard(web, open_page):
    page = open_inbox(open_page, web)
    unanswered = page.get_by_role("region", name="没有答上（兜底或超出范围） (3)")
    expect(unanswered).to_be_visible()
    expect(unanswered.get_by_role("heading", level=3)).to_have_text(
        ["can I pay my rent with it", "天气怎么样", "社保卡能不能当公交卡刷"])  # newest first
    expect(page.get_by_role("region", name="把握不大的回答 (1)")).to_contain_text("置信度 42%")
    expect(item(page, "can I pay my rent with it").get_by_role("heading")).to_have_attribute("lang", "en")
    expect(page.get_by_role("status")).to_have_text("共 4 条。")
    assert_accessible(page, "the review inbox")

    bus = item(page, "社保卡能不能当公交卡刷")
    bus.get_by_role("button", name="保存标注").click()  # nothing chosen yet
    expect(bus.get_by_role("alert")).to_have_text("请先选择一个标注。")
    expect(bus.get_by_label("正确的标注")).to_be_focused()
    assert_accessible(page, "the review inbox with an item's error")

    bus.get_by_label("正确的标注").select_option("new_topic")
    bus.get_by_label("备注（可选；新主题必填）").press("Enter")  # submits the item's form
    expect(bus.get_by_role("alert")).to_have_text("新主题需要在备注里说明是什么。")
    expect(bus.get_by_label("备注（可选；新主题必填）")).to_be_focused()

    bus.get_by_label("正确的标注").select_option("after_activation_use")
    with page.expect_response(lambda r: "/api/staff/review/" in r.url) as sent:
        bus.get_by_label("备注（可选；新主题必填）").press("Enter")
    assert sent.value.status == 200
    assert sent.value.request.post_data_json == {"label": "after_activation_use"}
    expect(page.get_by_role("status")).to_contain_text("已标注“社保卡能不能当公交卡刷”为")
    expect(bus).to_have_count(0)  # no longer open
    weather = item(page, "天气怎么样")
    expect(weather.get_by_label("正确的标注")).to_be_focused()  # on to the next one
    expect(page.get_by_role("region", name="没有答上（兜底或超出范围） (2)")).to_be_visible()

    page.keyboard.press("Tab")  # the note
    page.keyboard.press("Tab")  # save
    page.keyboard.press("Tab")  # dismiss
    expect(weather.get_by_role("button", name="忽略")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("已忽略“天气怎么样”。")
    expect(weather).to_have_count(0)
    assert_accessible(page, "the review inbox after two decisions")

    page.get_by_label("显示").select_option("labelled")
    labelled = item(page, "社保卡能不能当公交卡刷")
    expect(labelled).to_contain_text("已标注为")
    expect(labelled.get_by_label("正确的标注")).to_have_value("after_activation_use")
    assert_accessible(page, "the labelled items")
    assert web.scalar("SELECT label FROM review_items WHERE text = :t", t="社保卡能不能当公交卡刷") == \
        "after_activation_use"
    assert web.scalar("SELECT status FROM review_items WHERE text = :t", t="天气怎么样") == "dismissed"


def test_the_inbox_in_english(web, open_page):
    page = open_inbox(open_page, web, locale="en-GB")
    expect(page.get_by_role("heading", name="Review inbox", level=1)).to_be_visible()
    expect(page.get_by_role("region", name="Not answered (fallback or out of scope) (3)")).to_be_visible()
    rent = item(page, "can I pay my rent with it")
    expect(rent).to_contain_text("Language: English")
    rent.get_by_label("Right label").select_option("out_of_scope")
    rent.get_by_role("button", name="Save label").click()
    expect(page.get_by_role("status")).to_have_text("Labelled “can I pay my rent with it” as out_of_scope.")
    assert_accessible(page, "the review inbox in English")
