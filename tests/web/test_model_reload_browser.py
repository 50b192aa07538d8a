"""The admin's "load the newest model" button (issue 13) in a real headless Chromium
against the running product: the accounts page shows the Rasa server's model, the
button reloads it and says when it is done, axe-core passes before and after, in
Chinese and in English (bot/web/static/staff_model.js)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.axe import assert_accessible
from tests.support.web import STAFF_PASSWORD, STAFF_USER

pytestmark = [pytest.mark.browser, pytest.mark.product]


def accounts_page(product, open_page, locale):
    page = open_page(product.web_url + "/staff/login", locale=locale)
    page.locator("#username").fill(STAFF_USER)
    page.locator("#password").fill(STAFF_PASSWORD)
    page.locator("#login-form").get_by_role("button").click()
    expect(page).to_have_url(product.web_url + "/staff")
    page.goto(product.web_url + "/staff/accounts")
    return page


def test_an_admin_loads_the_newest_model_with_the_button(product, open_page):
    page = accounts_page(product, open_page, "en-GB")
    table = page.get_by_role("table", name="The model of each Rasa server")
    expect(table.get_by_role("row", name=re.compile("rasa server"))).to_contain_text("serving", timeout=30_000)
    assert_accessible(page, "the accounts page with the model section (en-GB)")

    page.get_by_role("button", name="Load the newest model").click()
    status = page.locator("#model-status")
    expect(status).to_have_text(re.compile("Loading the new model"), timeout=30_000)
    expect(status).to_have_text("Done: rasa server ok", timeout=600_000)
    expect(table.get_by_role("row", name=re.compile("rasa server"))).to_contain_text(re.compile(r"ok \(\d"))
    assert_accessible(page, "the accounts page after a reload (en-GB)")

    page = accounts_page(product, open_page, "zh-CN")
    expect(page.get_by_role("table", name="各 Rasa 服务的模型")).to_contain_text("服务中", timeout=30_000)
    assert_accessible(page, "the accounts page with the model section (zh-CN)")
