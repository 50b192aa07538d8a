"""Screenshots of the chat widget and the staff lookup for the README.

Run against a running product (`make run` in another terminal):

    .venv/bin/python scripts/screenshots.py [--url http://127.0.0.1:8080] [--out docs/screenshots]

It starts a new conversation (the widget page, desktop size: a question, then
an unclear one that gets "did you mean" quick replies) and logs in to /staff
as STAFF_USER / STAFF_PASSWORD (or --user / --password) to search
"补卡要带什么材料". Uses Debian's chromium through Playwright (no download).
"""
from __future__ import annotations

import argparse
import os
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


def staff(browser, url: str, user: str, password: str, out: Path) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.goto(url + "/staff/login")
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    refused = page.get_by_role("alert")
    expect(page.locator("#staff-page").or_(refused)).to_be_visible()
    if refused.is_visible():
        raise SystemExit(f"staff login refused: {refused.text_content()}")
    page.get_by_label("市民的问题").fill("补卡要带什么材料")
    page.keyboard.press("Enter")
    expect(page.locator(".st-result").first).to_be_visible(timeout=60_000)
    expect(page.locator("#tickets-status")).not_to_have_text("正在加载…")
    page.get_by_label("市民的问题").blur()
    page.screenshot(path=str(out / "staff.png"), full_page=True)
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
        finally:
            browser.close()
    print(f"wrote {args.out / 'widget.png'} and {args.out / 'staff.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
