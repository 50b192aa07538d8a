"""Ratings in the widget, in a real headless Chromium against the running
product (fixtures of conftest.py): an answer rated down with the keyboard,
4 stars given at "new chat", axe-core passing (tests/support/axe.py)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.axe import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.product]

expect.set_options(timeout=30_000)


def ask(page, text):
    page.get_by_label("您的问题").fill(text)
    page.keyboard.press("Enter")
    expect(page.get_by_role("log")).not_to_have_attribute("aria-busy", "true")


def test_rate_an_answer_down_with_the_keyboard_and_give_four_stars_at_new_chat(product, open_page):
    page = open_page(product.web_url + "/")
    ask(page, "补卡要带什么材料")
    answer = page.locator(".hd-bot").last
    expect(answer.locator(".hd-bubble")).to_contain_text("身份证")
    group = answer.get_by_role("group", name="这条回答有帮助吗？")
    down = group.get_by_role("button", name="没帮助")
    up = group.get_by_role("button", name="有帮助")
    expect(down).to_have_attribute("aria-pressed", "false")
    assert page.locator(".hd-bot").first.get_by_role("button", name="没帮助").count() == 0  # not the welcome

    up.focus()
    page.keyboard.press("Tab")  # to "not helpful"
    expect(down).to_be_focused()
    with page.expect_response(lambda r: r.url.endswith("/api/chat/feedback")) as sent:
        page.keyboard.press("Enter")
    assert sent.value.status == 201
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(up).to_have_attribute("aria-pressed", "false")
    for button in (up, down):
        expect(button).to_have_attribute("aria-disabled", "true")
    expect(group).to_contain_text("谢谢反馈")
    page.keyboard.press("Enter")  # once only: nothing more is sent
    assert_accessible(page, "the widget with an answer rated")

    page.reload()  # given feedback shows as given
    group = page.locator(".hd-bot").last.get_by_role("group", name="这条回答有帮助吗？")
    expect(group.get_by_role("button", name="没帮助")).to_have_attribute("aria-pressed", "true")
    expect(group.get_by_role("button", name="有帮助")).to_have_attribute("aria-disabled", "true")

    page.get_by_role("button", name="新对话").click()
    stars = page.get_by_role("radiogroup", name="这次服务您满意吗？")
    expect(stars).to_be_visible()
    expect(page.get_by_label("您的问题")).to_be_enabled()  # typing is never blocked
    assert_accessible(page, "the widget asking for a rating")
    stars.get_by_role("radio", name="1 星").focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(stars.get_by_role("radio", name="4 星")).to_be_checked()
    page.get_by_label("补充意见（可选）").fill("很清楚")
    with page.expect_response(lambda r: r.url.endswith("/api/chat/rating")) as sent:
        page.get_by_role("button", name="提交评价").click()
    assert sent.value.status == 201
    assert sent.value.request.post_data_json == {"score": 4, "comment": "很清楚"}
    expect(page.locator(".hd-survey")).to_contain_text("谢谢您的评价")
    expect(page.get_by_role("radiogroup")).to_have_count(0)
    assert_accessible(page, "the widget after a rating")


def test_a_goodbye_asks_once_and_skip_leaves_it(product, open_page):
    page = open_page(product.web_url + "/")
    ask(page, "补卡要带什么材料")
    ask(page, "再见")
    stars = page.get_by_role("radiogroup", name="这次服务您满意吗？")
    expect(stars).to_be_visible()
    page.get_by_role("button", name="跳过").click()
    expect(stars).to_have_count(0)
    ask(page, "再见")
    expect(page.locator(".hd-bot .hd-bubble").last).to_contain_text(re.compile("再见"))
    expect(page.get_by_role("radiogroup")).to_have_count(0)  # never asked twice
    page.get_by_role("button", name="新对话").click()
    expect(page.get_by_role("radiogroup")).to_have_count(0)
