"""A person takes over (issue 12), seen by the two people involved: a citizen in
the widget and a member of staff on the console, each in a Chromium context of
their own, against a product whose staff hours are always open. Asserted is
what each sees: the queue, the claim, messages both ways within 2 seconds, the
citizen's reload, the bot answering again after the hand-back (or the close),
in Chinese and in English; and axe-core on both pages in those states."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.axe import assert_accessible
from tests.support.product import STAFF_PASSWORD, STAFF_USER, start_product

pytestmark = [pytest.mark.browser, pytest.mark.product]

expect.set_options(timeout=30_000)  # a turn may take a few seconds on a busy 2-core machine
LIVE = 2_000  # ms: what one side writes is on the other's screen this soon (the promise)
TICKET = re.compile(r"HD-\d{8}-\d{4}")
# What the citizen is told of the member of staff: the account's first character, masked.
STAFF_SHOWN = STAFF_USER[0] + "**"

# Counts the notes the console plays (every WebAudio source started), before any page script runs.
COUNT_CHIMES = """
window.__chimes = 0;
const start = AudioScheduledSourceNode.prototype.start;
AudioScheduledSourceNode.prototype.start = function (...args) { window.__chimes += 1; return start.apply(this, args); };
"""


@pytest.fixture(scope="module")
def live_product(tmp_path_factory):
    """The product with staff on duty at any hour (HANDOFF_HOURS=always), so a request
    for a person is queued whatever the clock says; its own backend, so the hand-overs
    per address of other modules do not count here (the backend opens at most 5 an hour
    per address, and every test talks from 127.0.0.1: this module opens 4)."""
    running = start_product(tmp_path_factory.mktemp("product-handoff-browser"),
                            HANDOFF_HOURS="always", HANDOFF_WAIT_MINUTES="30")
    yield running
    running.stop()


# --- the citizen's side ---------------------------------------------------------------------------

def ask(page, text):
    """Types `text`, presses Enter and waits for the turn to end (an answer, or none: staff hold it)."""
    page.get_by_label(re.compile("您的问题|Your question")).fill(text)
    page.keyboard.press("Enter")
    expect(page.get_by_role("log")).not_to_have_attribute("aria-busy", "true")


def last_bot(page):
    return page.locator(".hd-bot .hd-bubble").last


def banner(page):
    """The hand-over banner's words (a status region): where the citizen is."""
    return page.locator(".hd-handoff").get_by_role("status")


def staff_messages(page):
    return page.locator(".hd-staff")


def ticket_in(page) -> str:
    return TICKET.search(last_bot(page).inner_text()).group(0)


# --- the staff's side -----------------------------------------------------------------------------

def open_console(open_page, url, locale="zh-CN"):
    page = open_page(url + "/staff/login", locale=locale, init_script=COUNT_CHIMES)
    zh = locale.startswith("zh")
    page.get_by_label("用户名" if zh else "Username").fill(STAFF_USER)
    page.get_by_label("密码" if zh else "Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="登录" if zh else "Log in").click()
    expect(page).to_have_url(url + "/staff")
    expect(page.locator("#queue-status")).not_to_have_text(re.compile("正在加载|Loading"))
    return page


def queue_item(staff, ticket):
    return staff.locator("#queue li").filter(has_text=ticket)


def sent(staff):
    """Waits for the console's staff message to be accepted (201)."""
    return staff.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/messages"))


# --- the tests ------------------------------------------------------------------------------------

def test_a_member_of_staff_takes_over_a_chat_in_chinese(live_product, open_page):
    url = live_product.web_url
    staff = open_console(open_page, url)
    citizen = open_page(url + "/")

    ask(citizen, "转人工")
    expect(last_bot(citizen)).to_contain_text("已为您转接人工客服")
    ticket = ticket_in(citizen)
    expect(banner(citizen)).to_have_text(re.compile(r"^正在为您转接人工，(您是下一位|前面还有 \d+ 位)$"))
    leave = citizen.get_by_role("button", name="回到智能助手")
    expect(leave).to_be_visible()

    # The console: a new request is seen and heard, its waiting time ticks, the tab says how many wait.
    item = queue_item(staff, ticket)
    expect(item).to_contain_text("等待中")
    expect(staff.get_by_role("alert").filter(has_text=ticket)).to_contain_text("新的转人工请求")
    staff.wait_for_function("() => window.__chimes > 0")
    clock = item.locator(".st-q-clock")
    expect(clock).to_have_text(re.compile(r"^已等待 \d\d:\d\d$"))
    waited = clock.inner_text()
    expect(clock).not_to_have_text(waited)  # a second later
    expect(staff).to_have_title(re.compile(r"^\(\d+\) 社保卡工作台"))
    assert_accessible(staff, "the console with a citizen waiting")
    assert_accessible(citizen, "the widget in the queue")

    # Claimed with the keyboard; the reply box takes the focus; the citizen sees who joined.
    item.get_by_role("button", name=f"接入 {ticket}").focus()
    with staff.expect_response(lambda r: r.url.endswith("/claim")) as claimed:
        staff.keyboard.press("Enter")
    assert claimed.value.status == 200
    expect(banner(citizen)).to_have_text(f"工作人员 {STAFF_SHOWN} 已接入", timeout=LIVE)
    reply = staff.get_by_label("回复市民")
    expect(reply).to_be_focused()
    expect(item).to_contain_text("由我处理")
    expect(last_bot(citizen)).to_contain_text(f"工作人员 {STAFF_SHOWN} 已接入")  # the bot said so too

    # The citizen writes: the bot is silent, the member of staff reads it.
    bot_said = citizen.locator(".hd-bot").count()
    ask(citizen, "我的卡丢了，补办要带什么材料？")
    transcript = staff.get_by_role("log", name=f"对话记录 {ticket}")
    expect(transcript).to_contain_text("我的卡丢了，补办要带什么材料？", timeout=LIVE)
    expect(citizen.locator(".hd-bot")).to_have_count(bot_said)

    # The knowledge base's answer to that message, one click away: inserted, edited, sent.
    suggestion = staff.locator(".st-suggestion").filter(has_text="身份证").first
    expect(suggestion).to_be_visible()
    suggestion.get_by_role("button", name=re.compile("^插入")).click()
    expect(reply).to_be_focused()
    expect(reply).to_have_value(re.compile("身份证"))
    reply.press("Shift+Enter")  # a new line, not sending
    staff.keyboard.type("还有别的问题吗？")
    answer = reply.input_value()
    assert answer.endswith("\n还有别的问题吗？") and "身份证" in answer
    with sent(staff) as response:
        reply.press("Enter")
    assert response.value.status == 201
    expect(reply).to_have_value("")
    from_staff = staff_messages(citizen).last
    expect(from_staff.locator(".hd-bubble")).to_have_text(answer, timeout=LIVE)
    # Marked as from a person: in sight, and first in what a screen reader reads of it.
    expect(from_staff.locator(".hd-from")).to_have_text(f"工作人员 {STAFF_SHOWN}：")
    assert from_staff.text_content().startswith(f"工作人员 {STAFF_SHOWN}：")
    assert citizen.locator(".hd-bot .hd-from").count() == 0
    expect(transcript.locator(".st-line-staff")).to_contain_text("还有别的问题吗？")
    assert_accessible(citizen, "the widget with a member of staff")
    assert_accessible(staff, "the console in a conversation")

    # The citizen reloads: the whole conversation, the banner, and still live.
    citizen.reload()
    expect(banner(citizen)).to_have_text(f"工作人员 {STAFF_SHOWN} 已接入")
    expect(citizen.locator(".hd-user .hd-bubble")).to_have_text(["转人工", "我的卡丢了，补办要带什么材料？"])
    expect(staff_messages(citizen).locator(".hd-bubble")).to_have_text([answer])
    expect(last_bot(citizen)).to_contain_text("已接入")
    # So does the member of staff: the conversation they hold opens again.
    staff.reload()
    expect(transcript.locator(".st-line-staff")).to_contain_text("还有别的问题吗？")
    expect(reply).to_be_editable()
    reply.fill("请问您的卡是什么时候丢的？")
    with sent(staff) as response:
        staff.get_by_role("button", name="发送", exact=True).click()
    assert response.value.status == 201
    expect(staff_messages(citizen).locator(".hd-bubble")).to_have_text([answer, "请问您的卡是什么时候丢的？"],
                                                                         timeout=LIVE)
    ask(citizen, "昨天")
    expect(transcript.locator(".st-line-citizen").last).to_have_text(re.compile("昨天$"), timeout=LIVE)

    # Handed back: the citizen is told, the banner goes, and the bot answers again.
    staff.get_by_role("button", name="交回智能助手").click()
    expect(staff.locator("#conversation-status")).to_have_text("已交回智能助手。")
    expect(last_bot(citizen)).to_contain_text("工作人员已把对话交回智能助手", timeout=LIVE)
    expect(banner(citizen)).to_be_hidden()
    expect(leave).to_be_hidden()
    ask(citizen, "补卡要带什么材料")
    expect(last_bot(citizen)).to_contain_text("身份证")
    expect(item).to_have_count(0)  # gone from the queue
    expect(citizen.locator(".hd-user .hd-bubble")).to_have_text(
        ["转人工", "我的卡丢了，补办要带什么材料？", "昨天", "补卡要带什么材料"])


def test_a_member_of_staff_takes_over_a_chat_in_english(live_product, open_page):
    url = live_product.web_url
    staff = open_console(open_page, url, locale="en-GB")
    citizen = open_page(url + "/", locale="en-US")

    ask(citizen, "How do I replace a lost card?")
    ask(citizen, "I want to talk to a person")
    expect(last_bot(citizen)).to_contain_text("You are in the queue for a member of staff")
    ticket = ticket_in(citizen)
    expect(banner(citizen)).to_have_text(re.compile(r"^Connecting you to a member of staff"))

    item = queue_item(staff, ticket)
    expect(staff.get_by_role("alert").filter(has_text=ticket)).to_contain_text("New request for a person")
    expect(item.locator(".st-q-meta")).to_contain_text("web · English")
    expect(item.locator(".st-q-clock")).to_have_text(re.compile(r"^waiting \d\d:\d\d$"))
    item.get_by_role("button", name=f"Claim {ticket}").click()
    expect(banner(citizen)).to_have_text(f"A member of staff has joined ({STAFF_SHOWN})", timeout=LIVE)
    expect(last_bot(citizen)).to_contain_text("A member of staff")
    # The knowledge base is looked up with the question the citizen asked before asking for a person.
    expect(staff.get_by_label("Look up in the knowledge base")).to_have_value("How do I replace a lost card?")
    expect(staff.locator(".st-suggestion").first).to_be_visible()

    ask(citizen, "How long does a replacement card take?")
    transcript = staff.get_by_role("log", name=f"Transcript of {ticket}")
    expect(transcript).to_contain_text("How long does a replacement card take?", timeout=LIVE)
    reply = staff.get_by_label("Reply to the citizen")
    reply.fill("Usually about ten working days. I can check your application if you like.")
    with sent(staff) as response:
        staff.get_by_role("button", name="Send", exact=True).click()
    assert response.value.status == 201
    from_staff = staff_messages(citizen).last
    expect(from_staff.locator(".hd-bubble")).to_have_text(
        "Usually about ten working days. I can check your application if you like.", timeout=LIVE)
    expect(from_staff.locator(".hd-from")).to_have_text(f"Staff member {STAFF_SHOWN}:")
    assert_accessible(citizen, "the widget in English with a member of staff")
    assert_accessible(staff, "the console in English in a conversation")

    citizen.reload()
    expect(banner(citizen)).to_have_text(f"A member of staff has joined ({STAFF_SHOWN})")
    expect(citizen.locator(".hd-user .hd-bubble")).to_have_text(
        ["How do I replace a lost card?", "I want to talk to a person", "How long does a replacement card take?"])
    expect(staff_messages(citizen)).to_have_count(1)
    ask(citizen, "Yes please")
    expect(transcript).to_contain_text("Yes please", timeout=LIVE)

    staff.get_by_role("button", name="Hand back to the bot").click()
    expect(last_bot(citizen)).to_contain_text("handed the conversation back to the assistant", timeout=LIVE)
    expect(banner(citizen)).to_be_hidden()
    ask(citizen, "Does my reissued card need to be activated?")
    expect(last_bot(citizen)).to_contain_text("activated again")


def test_the_citizen_leaves_the_queue_with_the_button(live_product, open_page):
    url = live_product.web_url
    staff = open_console(open_page, url)
    citizen = open_page(url + "/")
    ask(citizen, "我要人工")
    ticket = ticket_in(citizen)
    expect(queue_item(staff, ticket)).to_be_visible()

    citizen.get_by_role("button", name="回到智能助手").click()
    expect(citizen.get_by_role("log")).not_to_have_attribute("aria-busy", "true")
    expect(citizen.locator(".hd-user .hd-bubble").last).to_have_text("回到智能助手")  # sent as the citizen's words
    expect(last_bot(citizen)).to_contain_text("已为您退出人工服务")
    expect(banner(citizen)).to_be_hidden()
    expect(queue_item(staff, ticket)).to_have_count(0)
    ask(citizen, "补卡要带什么材料")
    expect(last_bot(citizen)).to_contain_text("身份证")
    citizen.reload()
    expect(banner(citizen)).to_be_hidden()
    expect(last_bot(citizen)).to_contain_text("身份证")


def test_staff_close_a_conversation_with_an_outcome(live_product, open_page):
    url = live_product.web_url
    staff = open_console(open_page, url)
    late = open_console(open_page, url)  # another console, a moment too late
    citizen = open_page(url + "/")
    ask(citizen, "人工客服")
    ticket = ticket_in(citizen)
    expect(queue_item(late, ticket)).to_be_visible()
    late.route("**/api/staff/handoffs", lambda route: route.abort())  # its queue stops refreshing
    queue_item(staff, ticket).get_by_role("button", name=f"接入 {ticket}").click()
    expect(banner(citizen)).to_have_text(f"工作人员 {STAFF_SHOWN} 已接入", timeout=LIVE)
    queue_item(late, ticket).get_by_role("button", name=f"接入 {ticket}").click()
    expect(late.get_by_role("alert")).to_have_text("未能接入：该对话已被其他工作人员接入。")
    expect(late.get_by_label("回复市民")).to_be_hidden()

    staff.get_by_label("结果").select_option(label="已引导到窗口办理")
    staff.get_by_role("button", name="结束服务").click()
    expect(staff.locator("#conversation-status")).to_have_text("服务已结束（已引导到窗口办理）。")
    expect(staff.get_by_label("回复市民")).to_be_hidden()
    expect(last_bot(citizen)).to_contain_text("工作人员已结束本次服务", timeout=LIVE)
    expect(banner(citizen)).to_be_hidden()
    ask(citizen, "卡号会变吗")
    expect(last_bot(citizen)).to_contain_text("卡号")
