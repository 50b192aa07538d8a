"""The widget and the staff page in a real headless Chromium (Debian's
/usr/bin/chromium driven by Playwright; no browser is downloaded: the
`browser` and `open_page` fixtures of conftest.py), against the running
product. What is asserted is what a person sees; axe-core checks each page
(tests/support/axe.py). The live hand-over is test_handoff_browser.py."""
from __future__ import annotations

import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed

import httpx
import pytest
from playwright.sync_api import expect

from bot.web.rate_limit import SESSION_TURNS
from tests.support.axe import assert_accessible
from tests.support.product import UNCLEAR
from tests.support.web import STAFF_PASSWORD, STAFF_USER, start_web

pytestmark = [pytest.mark.browser, pytest.mark.product]

expect.set_options(timeout=30_000)  # a turn may take a few seconds on a busy 2-core machine


def ask(page, text, wait=True):
    """Types `text` and presses Enter; with wait, returns once the answer (or error) is shown."""
    page.get_by_label(re.compile("您的问题|Your question")).fill(text)
    page.keyboard.press("Enter")  # the widget marks the log busy before the key event returns
    if wait:
        idle(page)


def idle(page):
    expect(page.get_by_role("log")).not_to_have_attribute("aria-busy", "true")


def last_bot(page):
    return page.locator(".hd-bot .hd-bubble").last


# --- the widget -----------------------------------------------------------------------------------

def test_ask_click_a_quick_reply_and_find_it_all_after_a_reload(product, open_page):
    page = open_page(product.web_url + "/")
    expect(page.get_by_role("heading", name="社保卡智能助手", exact=True)).to_be_visible()
    expect(page.get_by_role("log")).to_have_attribute("aria-live", "polite")
    ask(page, "补办的社保卡需要重新激活吗?")
    expect(page.locator(".hd-user .hd-bubble").last).to_have_text("补办的社保卡需要重新激活吗?")
    expect(last_bot(page)).to_contain_text("需要")
    expect(last_bot(page)).to_contain_text("激活")
    assert page.get_by_label("您的问题").input_value() == ""

    ask(page, UNCLEAR)  # "did you mean" with buttons
    choice = page.get_by_role("button", name="怎么补办、去哪补办")
    expect(choice).to_be_visible()
    choice.click()
    idle(page)
    expect(page.locator(".hd-user .hd-bubble").last).to_have_text("怎么补办、去哪补办")  # the title, not the payload
    expect(last_bot(page)).to_contain_text("社保卡遗失或损坏时")
    expect(page.locator(".hd-typing")).to_be_hidden()

    page.reload()
    users = page.locator(".hd-user .hd-bubble")
    expect(users).to_have_text(["补办的社保卡需要重新激活吗?", UNCLEAR, "怎么补办、去哪补办"])
    expect(last_bot(page)).to_contain_text("社保卡遗失或损坏时")
    expect(page.get_by_role("button", name="怎么补办、去哪补办")).to_be_visible()
    assert_accessible(page, "the widget with answers and quick replies")


def test_the_typing_indicator_shows_while_waiting(product, open_page):
    page = open_page(product.web_url + "/")
    held = []  # the turn's request, held until the indicator was seen
    page.route("**/api/chat/messages", lambda route: held.append(route))
    ask(page, "补卡要带什么材料", wait=False)
    expect(page.get_by_role("status").filter(has_text="助手正在输入")).to_be_attached()
    expect(page.locator(".hd-typing")).to_be_visible()
    assert len(held) == 1  # still waiting for the answer
    held[0].continue_()
    expect(last_bot(page)).to_contain_text("身份证")
    expect(page.locator(".hd-typing")).to_be_hidden()


@pytest.fixture(scope="module")
def web_with_real_limits(product, tmp_path_factory):
    """A web process of its own in front of the product's Rasa and backend, with the
    chat limits as a deployment has them (CHAT_LIMIT_FACTOR 1: bot/web/rate_limit.py)."""
    directory = tmp_path_factory.mktemp("web-limits")
    env = product.env
    server = start_web(directory, f"sqlite:///{directory / 'staff.db'}", CHAT_LIMIT_FACTOR="1",
                       RASA_URL=product.rasa_url, RASA_AUTH_TOKEN=env["RASA_AUTH_TOKEN"],
                       REST_CHANNEL_SECRET=env["REST_CHANNEL_SECRET"],
                       BACKEND_URL=product.backend_url, BACKEND_SERVICE_TOKEN=env["BACKEND_SERVICE_TOKEN"])
    yield server
    server.group.stop()


def test_sending_too_fast_is_explained_and_the_message_can_be_sent_again(web_with_real_limits, open_page):
    page = open_page(web_with_real_limits.url + "/")
    ask(page, "你好")  # the widget's session exists now
    session = json.loads(page.evaluate("() => localStorage.getItem('helpdesk.chat.session')"))["id"]
    # The same session sends a burst from elsewhere (a script, another tab): the
    # real limiter lets SESSION_TURNS.burst messages through (real turns, still
    # running) and refuses the rest at once.
    with httpx.Client(base_url=web_with_real_limits.url, timeout=120, headers={"X-Chat-Session": session}) as script:
        with ThreadPoolExecutor(max_workers=SESSION_TURNS.burst + 4) as pool:
            burst = [pool.submit(script.post, "/api/chat/messages", json={"message": "你好"})
                     for _ in range(SESSION_TURNS.burst + 4)]
            next(f for f in as_completed(burst) if f.result().status_code == 429)
            refusals = []
            page.on("response", lambda r: refusals.append(r) if r.status == 429 else None)
            ask(page, "补卡要带什么材料")  # the person's own message, right after: refused by the web process
            alert = page.get_by_role("alert")
            expect(alert).to_contain_text("消息发送得太快了")
            assert [r.url.endswith("/api/chat/messages") for r in refusals] == [True]
            # As a person who read the message waits (Retry-After is rounded: a second more).
            page.wait_for_timeout((int(refusals[0].headers["retry-after"]) + 1) * 1000)
            alert.get_by_role("button").click()  # send it again
            expect(last_bot(page)).to_contain_text("身份证")
            expect(alert).to_be_hidden()
        statuses = [f.result().status_code for f in burst]
        assert set(statuses) == {200, 429} and statuses.count(200) <= SESSION_TURNS.burst, statuses


def test_html_in_a_message_is_shown_as_text_and_never_run(product, open_page):
    page = open_page(product.web_url + "/")
    html = "<script>window.pwned=1</script><b>x</b><img src=x onerror=\"window.pwned=2\">\nsecond line"
    ask(page, html)
    bubble = page.locator(".hd-user .hd-bubble").last
    expect(bubble).to_have_text(html)
    expect(last_bot(page)).not_to_have_text(re.compile("^您好"))  # the assistant answered
    assert page.locator(".hd-log b, .hd-log script, .hd-log img").count() == 0
    assert page.evaluate("() => window.pwned") is None
    assert bubble.inner_text().splitlines()[-1] == "second line"  # the newline is kept
    page.reload()
    expect(page.locator(".hd-user .hd-bubble").last).to_contain_text("<script>window.pwned=1</script>")
    assert page.evaluate("() => window.pwned") is None


def test_enter_that_confirms_an_input_method_candidate_does_not_send(product, open_page):
    page = open_page(product.web_url + "/")
    sent = []  # every message the page posts, in order
    page.on("request", lambda request: sent.append(request.post_data_json["message"])
            if request.url.endswith("/api/chat/messages") and request.method == "POST" else None)
    box = page.get_by_label("您的问题")
    box.fill("bu ka")
    box.dispatch_event("keydown", {"key": "Enter", "code": "Enter", "isComposing": True, "bubbles": True})
    box.dispatch_event("keydown", {"key": "Enter", "code": "Enter", "keyCode": 229, "bubbles": True})
    expect(box).to_have_value("bu ka")
    box.fill("补卡")
    box.press("Enter")  # a plain Enter sends
    idle(page)
    # Had a composing Enter sent "bu ka", it would have gone first: the page sends in order.
    expect(page.locator(".hd-user .hd-bubble")).to_have_text(["补卡"])
    assert sent == ["补卡"]


def test_english_browser_gets_english_labels(product, open_page):
    page = open_page(product.web_url + "/", locale="en-US")
    expect(page.get_by_role("heading", name="Social security card assistant")).to_be_visible()
    box = page.get_by_label("Your question")
    expect(box).to_have_attribute("placeholder", "Type your question and press Enter")
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_visible()
    ask(page, "Does my reissued card need to be activated?")
    expect(last_bot(page)).to_contain_text("activated again")
    assert_accessible(page, "the widget in English")


def test_usable_on_a_phone(product, open_page):
    page = open_page(product.web_url + "/", viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    box, send = page.get_by_label("您的问题"), page.get_by_role("button", name="发送")
    for control in (box, send):
        bounds = control.bounding_box()
        assert bounds["x"] >= 0 and bounds["x"] + bounds["width"] <= 375 and bounds["y"] + bounds["height"] <= 667
    assert send.bounding_box()["height"] >= 40  # a finger can hit it
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    box.tap()
    box.fill("补卡要带什么材料")
    send.tap()
    idle(page)
    expect(last_bot(page)).to_contain_text("身份证")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    expect(box).to_be_in_viewport()
    assert_accessible(page, "the widget on a phone")


def test_keyboard_alone(product, open_page):
    page = open_page(product.web_url + "/")
    order = []
    for _ in range(4):
        page.keyboard.press("Tab")
        order.append(page.evaluate("() => document.activeElement.className"))
    # New chat, the conversation log (scrollable), the question, Send: in that order.
    assert order == ["hd-restart", "hd-log", "hd-input", "hd-send"]
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.press("Shift+Tab")
    page.keyboard.type("卡号会变吗")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # Enter on the focused Send button
    idle(page)
    expect(last_bot(page)).to_contain_text("卡号")
    page.keyboard.press("Shift+Tab")
    page.keyboard.type("补卡要带什么材料")
    page.keyboard.press("Enter")
    idle(page)
    expect(last_bot(page)).to_contain_text("身份证")


def test_a_new_chat_starts_a_new_session(product, open_page):
    page = open_page(product.web_url + "/")
    ask(page, "补卡要带什么材料")
    before = page.evaluate("() => localStorage.getItem('helpdesk.chat.session')")
    restart = page.get_by_role("button", name="新对话", exact=True)  # its visible text is its name
    expect(restart).to_have_attribute("title", "结束这次对话，开始新的对话")
    restart.click()
    expect(page.locator(".hd-user")).to_have_count(0)
    expect(last_bot(page)).to_contain_text("您好")
    expect(page.get_by_label("您的问题")).to_be_focused()
    page.reload()
    expect(last_bot(page)).to_contain_text("您好")
    expect(page.locator(".hd-user")).to_have_count(0)
    assert page.evaluate("() => localStorage.getItem('helpdesk.chat.session')") not in (None, before)
    # "New chat" ended the old session on the server: its id shows nothing to anyone now.
    old = json.loads(before)["id"]
    response = httpx.get(product.web_url + "/api/chat/history", headers={"X-Chat-Session": old}, timeout=30)
    assert response.status_code == 403 and response.json()["error"]["code"] == "session_ended"


def test_the_widget_forgets_a_session_idle_too_long(product, open_page):
    """A kiosk: the previous person's conversation, last used 31 minutes ago
    (by the stored clock, which the test sets), is not shown to the next one."""
    page = open_page(product.web_url + "/")
    ask(page, "补卡要带什么材料")
    expect(last_bot(page)).to_contain_text("身份证")
    page.evaluate("""() => {
        const saved = JSON.parse(localStorage.getItem('helpdesk.chat.session'));
        saved.at = Date.now() - 31 * 60 * 1000;
        localStorage.setItem('helpdesk.chat.session', JSON.stringify(saved));
    }""")
    page.reload()
    expect(last_bot(page)).to_contain_text("您好")
    expect(page.locator(".hd-user")).to_have_count(0)


def test_empty_and_too_long_messages_are_refused_politely(product, open_page):
    page = open_page(product.web_url + "/")
    page.get_by_role("button", name="发送").click()
    expect(page.get_by_role("alert")).to_have_text("请先输入您的问题。")
    ask(page, "长" * 1001)
    expect(page.get_by_role("alert")).to_contain_text("1000")
    expect(page.locator(".hd-user")).to_have_count(0)


def test_a_forged_stored_session_is_replaced(product, open_page):
    page = open_page(product.web_url + "/")
    page.evaluate("() => localStorage.setItem('helpdesk.chat.session', 'forged.session')")
    page.reload()
    ask(page, "补卡要带什么材料")
    expect(last_bot(page)).to_contain_text("身份证")
    assert page.evaluate("() => localStorage.getItem('helpdesk.chat.session')") != "forged.session"


# --- the staff page -------------------------------------------------------------------------------

def open_ticket(product, summary):
    response = httpx.post(
        f"{product.backend_url}/v1/handoff-tickets", json={"summary": summary, "channel": "web", "language": "zh"},
        headers={"Authorization": f"Bearer {product.env['BACKEND_SERVICE_TOKEN']}", "Idempotency-Key": uuid.uuid4().hex},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return response.json()["ticket_number"]


def staff_login(page, password):
    page.get_by_label("用户名").fill(STAFF_USER)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_staff_login_search_copy_tickets_logout(product, open_page):
    ticket = open_ticket(product, "市民想当面办理补卡，请回电")
    page = open_page(product.web_url + "/staff")
    expect(page).to_have_url(product.web_url + "/staff/login")
    staff_login(page, "wrong-password!")
    expect(page.get_by_role("alert")).to_have_text("用户名或密码不正确。")
    assert_accessible(page, "the staff login page with an error")
    staff_login(page, STAFF_PASSWORD)
    expect(page).to_have_url(product.web_url + "/staff")
    expect(page.get_by_text(STAFF_USER, exact=True)).to_be_visible()

    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=product.web_url)
    page.get_by_label("市民的问题").fill("补卡要带什么材料")
    page.keyboard.press("Enter")
    results = page.locator(".st-result")
    expect(results.first).to_be_visible()
    first = results.first
    expect(first.get_by_role("heading", level=3)).to_have_text("1. 补办需要带什么材料")
    expect(first.locator(".st-score")).to_have_text(re.compile(r"匹配度 \d+%"))
    expect(page.locator("#search-status")).to_contain_text("由问答模型排序")
    answers = first.locator(".st-answer-text")
    expect(answers).to_have_count(2)
    expect(answers.nth(0)).to_contain_text("身份证")  # Chinese first: the question was Chinese
    expect(answers.nth(1)).to_contain_text("identity")
    first.get_by_role("button", name="复制答案 (中文)").click()
    expect(first.get_by_role("status").first).to_have_text("已复制")
    assert "身份证" in page.evaluate("() => navigator.clipboard.readText()")

    row = page.get_by_role("row").filter(has_text=ticket)
    expect(row).to_contain_text("市民想当面办理补卡，请回电")
    expect(row).to_contain_text("web")
    # The tickets' table scrolls sideways in a narrow window: its region takes the focus.
    region = page.get_by_role("region", name="工单表格")
    expect(region).to_have_attribute("tabindex", "0")
    assert_accessible(page, "the staff console with answers and tickets")
    page.set_viewport_size({"width": 480, "height": 800})
    assert_accessible(page, "the staff console in a narrow window")

    page.goto(product.web_url + "/staff/login")  # logged in already: back to the lookup
    expect(page).to_have_url(product.web_url + "/staff")
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(product.web_url + "/staff/login")
    page.goto(product.web_url + "/staff")
    expect(page).to_have_url(product.web_url + "/staff/login")


def test_legal_reference_and_english_staff_page(product, open_page):
    page = open_page(product.web_url + "/staff/login", locale="en-GB")
    page.get_by_label("Username").fill(STAFF_USER)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("The citizen's question").fill("what is the legal basis for this")
    page.get_by_role("button", name="Search").click()
    first = page.locator(".st-result").first
    expect(first.get_by_role("heading", level=3)).to_contain_text("1.")
    expect(first.locator(".st-legal").first).to_contain_text("Legal basis")
    expect(first.locator(".st-answer").first).to_have_attribute("lang", "en")
    assert_accessible(page, "the staff console in English")


def test_every_page_passes_axe_core(product, open_page):
    """axe-core (tests/support/axe.py: no serious or critical violation) on every page as it
    first shows, in Chinese and in English: the widget, the staff login, the console, and the
    admin's accounts page, reached by the console's link (the account the product creates is an admin)."""
    for locale, accounts in (("zh-CN", "账号管理"), ("en-GB", "Accounts")):
        page = open_page(product.web_url + "/", locale=locale)
        expect(last_bot(page)).to_be_visible()  # the welcome
        assert_accessible(page, f"the widget ({locale})")
        page.goto(product.web_url + "/staff/login")
        assert_accessible(page, f"the staff login ({locale})")
        page.locator("#username").fill(STAFF_USER)
        page.locator("#password").fill(STAFF_PASSWORD)
        page.locator("#login-form").get_by_role("button").click()
        expect(page).to_have_url(product.web_url + "/staff")
        expect(page.locator("#queue-status")).not_to_have_text(re.compile("正在加载|Loading"))
        expect(page.locator("#tickets-status")).not_to_have_text(re.compile("^$|正在加载|Loading"))
        assert_accessible(page, f"the staff console ({locale})")
        page.get_by_role("link", name=accounts).click()
        expect(page).to_have_url(product.web_url + "/staff/accounts")
        expect(page.locator("#accounts")).to_contain_text(STAFF_USER)
        assert_accessible(page, f"the accounts page ({locale})")


# --- when something is down -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def web_alone(tmp_path_factory):
    """A web process whose Rasa and backend are down."""
    directory = tmp_path_factory.mktemp("web-alone")
    server = start_web(directory, f"sqlite:///{directory / 'staff.db'}")
    yield server
    server.group.stop()


def test_the_widget_says_when_the_assistant_is_unavailable(web_alone, open_page):
    page = open_page(web_alone.url + "/")
    ask(page, "补卡要带什么材料")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("助手暂时无法使用，请稍后再试。")
    expect(alert.get_by_role("button", name="重试")).to_be_visible()
    expect(page.locator(".hd-typing")).to_be_hidden()
    assert_accessible(page, "the widget saying the assistant is unavailable")


def test_the_staff_page_says_when_the_backend_is_down_and_searches_by_keywords(web_alone, open_page):
    page = open_page(web_alone.url + "/staff/login")
    staff_login(page, STAFF_PASSWORD)
    expect(page.locator("#tickets-status")).to_have_text("工单系统暂时无法访问，请稍后刷新。")
    page.get_by_label("市民的问题").fill("补卡要带什么材料")
    page.keyboard.press("Enter")
    expect(page.locator("#search-status")).to_contain_text("关键词检索 · 问答模型暂时不可用")
    expect(page.locator(".st-result").first.locator(".st-score")).to_have_text(re.compile(r"关键词得分 \d+\.\d\d"))
    expect(page.locator("#queue-status")).to_have_text("转人工服务暂时无法访问，正在重试…")
    assert_accessible(page, "the staff console with the backend down")
