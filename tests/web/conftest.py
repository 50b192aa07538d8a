"""The web process under test: alone (`web`: its own staff database on SQLite
and on PostgreSQL, Rasa and the backend down), or as part of the whole product
(the fixture `product` of tests/conftest.py); and Debian's Chromium driven by
Playwright for the browser tests (`browser`, `open_page`)."""
from __future__ import annotations

import shutil

import pytest

from tests.support.markers import require
from tests.support.web import staff_database, start_web


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def web(request, tmp_path_factory):
    """A web process alone, Rasa and the backend down, staff database of each kind."""
    directory = tmp_path_factory.mktemp(f"web-{request.param}")
    with staff_database(request.param, directory) as db_url:
        server = start_web(directory, db_url)
        yield server
        server.group.stop()


@pytest.fixture(scope="module")
def browser():
    """Debian's /usr/bin/chromium (no browser is downloaded), headless."""
    require("browser", "starts Chromium")
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed (scripts/ensure_services.sh installs it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture()
def open_page(browser):
    """open_page(url, locale=..., init_script=None, **context options) -> a page in a
    context of its own (a person of their own: cookies, storage); page errors fail the test."""
    contexts, errors = [], []

    def open_(url, locale="zh-CN", init_script=None, **options):
        context = browser.new_context(locale=locale, **options)
        contexts.append(context)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
        page.goto(url)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors
