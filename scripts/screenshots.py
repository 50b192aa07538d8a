"""Screenshots of the chat widget and the staff console for the README.

Run against a running product (`make run` in another terminal; for the
hand-over, during staff hours or with HANDOFF_HOURS=always):

    .venv/bin/python scripts/screenshots.py [--url http://127.0.0.1:8080] [--out docs/screenshots]

- widget.png: a new conversation (desktop size: a question, then an unclear one
  that gets "did you mean" quick replies);
- staff.png: /staff, logged in as STAFF_USER / STAFF_PASSWORD (or --user /
  --password), the lookup of "补卡要带什么材料" and the open tickets;
- handoff_widget.png, handoff_staff.png: a live hand-over seen from both sides:
  a citizen asks for a person, the member of staff claims the conversation
  (another citizen is waiting in the queue), the citizen asks a question and
  staff answer with the knowledge base's answer inserted and edited. Both
  citizens then leave the hand-over, so nothing is left waiting;
- review.png, analytics.png: citizens ask what the assistant cannot answer,
  rate an answer "not helpful" and the conversation; then the review inbox
  and the figures of the last 30 days (the account must be a reviewer or admin).

Uses Debian's chromium through Playwright (no download).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent


def idle(page) -> None:
    expect(page.get_by_role("log")).not_to_have_attribute("aria-busy", "true", timeout=60_000)


def ask(page, text: str) -> None:
    page.get_by_label("您的问题").fill(text)
    page.keyboard.press("Enter")
    idle(page)


def widget(browser, url: str, out: Path) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 760})
    page = context.new_page()
    page.goto(url + "/")
    ask(page, "补办的社保卡需要重新激活吗?")
    ask(page, "激活")
    expect(page.locator(".hd-quick-reply").first).to_be_visible()
    page.get_by_label("您的问题").blur()
    page.screenshot(path=str(out / "widget.png"))
    context.close()


def log_in(page, url: str, user: str, password: str) -> None:
    page.goto(url + "/staff/login")
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    refused = page.locator("#login-error")
    expect(page.locator("#staff-page").or_(refused)).to_be_visible()
    if refused.is_visible():
        raise SystemExit(f"staff login refused: {refused.text_content()}")


def staff(browser, url: str, user: str, password: str, out: Path) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    log_in(page, url, user, password)
    page.get_by_label("市民的问题").fill("补卡要带什么材料")
    page.keyboard.press("Enter")
    expect(page.locator(".st-result").first).to_be_visible(timeout=60_000)
    expect(page.locator("#tickets-status")).not_to_have_text("正在加载…")
    page.get_by_label("市民的问题").blur()
    page.screenshot(path=str(out / "staff.png"), full_page=True)
    context.close()


def handoff(browser, url: str, user: str, password: str, out: Path) -> None:
    """Both sides of a live hand-over."""
    citizen_context = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 760})
    waiting_context = browser.new_context(locale="en-GB", viewport={"width": 800, "height": 600})
    staff_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    citizen, waiting, console = citizen_context.new_page(), waiting_context.new_page(), staff_context.new_page()
    try:
        log_in(console, url, user, password)
        citizen.goto(url + "/")
        ask(citizen, "转人工")
        banner = citizen.locator(".hd-handoff").get_by_role("status")
        if not re.search("转接人工", banner.text_content() or ""):
            raise SystemExit("the citizen was not queued for a person: is it within HANDOFF_HOURS? "
                             f"(the assistant said: {citizen.locator('.hd-bot .hd-bubble').last.text_content()})")
        ticket = re.search(r"HD-\d{8}-\d{4}", citizen.locator(".hd-bot .hd-bubble").last.text_content()).group(0)
        item = console.locator("#queue li").filter(has_text=ticket)
        item.get_by_role("button", name=re.compile("^接入")).click()
        expect(banner).to_contain_text("已接入", timeout=60_000)
        ask(citizen, "我的卡丢了，补办要带什么材料？")
        suggestion = console.locator(".st-suggestion").filter(has_text="身份证").first
        expect(suggestion).to_be_visible(timeout=60_000)
        suggestion.get_by_role("button", name=re.compile("^插入")).click()
        reply = console.get_by_label("回复市民")
        reply.press("Shift+Enter")
        console.keyboard.type("您带上这些材料到任一网点即可办理。还有别的问题吗？")
        reply.press("Enter")
        expect(citizen.locator(".hd-staff")).to_have_count(1, timeout=60_000)
        # Someone else asks meanwhile: the queue alerts and shows their waiting time.
        waiting.goto(url + "/")
        waiting.get_by_label("Your question").fill("I want to talk to a person")
        waiting.keyboard.press("Enter")
        idle(waiting)
        expect(console.locator("#queue-alert")).not_to_be_empty(timeout=60_000)
        console.wait_for_timeout(3_000)  # a few seconds on the clock
        reply.blur()
        citizen.get_by_label("您的问题").blur()
        citizen.screenshot(path=str(out / "handoff_widget.png"))
        console.screenshot(path=str(out / "handoff_staff.png"))
    finally:
        # Nobody is left waiting: both citizens go back to the assistant.
        for page, leave in ((waiting, "Back to the bot"), (citizen, "回到智能助手")):
            button = page.get_by_role("button", name=leave)
            if button.is_visible():
                button.click()
                idle(page)
        for context in (citizen_context, waiting_context, staff_context):
            context.close()


def review_and_figures(browser, url: str, user: str, password: str, out: Path) -> None:
    """What operators see: the review inbox and the figures, after citizens were not well served."""
    citizen_context = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 760})
    citizen = citizen_context.new_page()
    citizen.goto(url + "/")
    for question in ("社保卡能不能当公交卡刷", "补卡要钱吗", "社保卡能不能当公交卡用？"):
        ask(citizen, question)
    citizen.get_by_role("button", name="没帮助").last.click()
    ask(citizen, "再见")
    citizen.get_by_role("radio", name="4 星").check(force=True)
    citizen.get_by_role("button", name="提交评价").click()
    citizen_context.close()
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, url, user, password)
    page.goto(url + "/staff/review")
    expect(page.locator("#review-status")).not_to_have_text(re.compile("正在加载|^$"), timeout=60_000)
    expect(page.locator("#groups section").first).to_be_visible()
    page.screenshot(path=str(out / "review.png"), full_page=True)
    page.goto(url + "/staff/analytics")
    expect(page.locator("#analytics-page")).not_to_have_attribute("aria-busy", "true", timeout=60_000)
    page.screenshot(path=str(out / "analytics.png"), full_page=True)
    context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('WEB_PORT') or 8080}")
    parser.add_argument("--user", default=os.environ.get("STAFF_USER", ""))
    parser.add_argument("--password", default=os.environ.get("STAFF_PASSWORD", ""))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    if not args.user or not args.password:
        print("give the staff account: --user/--password or STAFF_USER/STAFF_PASSWORD", file=sys.stderr)
        return 2
    chromium = shutil.which("chromium")
    if chromium is None:
        print("chromium is not installed (scripts/ensure_services.sh installs Debian's)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    url = args.url.rstrip("/")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            widget(browser, url, args.out)
            staff(browser, url, args.user, args.password, args.out)
            handoff(browser, url, args.user, args.password, args.out)
            review_and_figures(browser, url, args.user, args.password, args.out)
        finally:
            browser.close()
    names = ("widget.png", "staff.png", "handoff_widget.png", "handoff_staff.png", "review.png", "analytics.png")
    print("wrote " + ", ".join(str(args.out / name) for name in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
