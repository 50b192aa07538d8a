"""Runs last (file order): the same hostile load twice with flat memory, then every
server still answers normally and none was restarted during the whole fuzz package."""
import json
import time

import httpx
import pytest

from tests.channels.wechat_server import BILLION_LAUGHS, EXTERNAL_ENTITY, WeChatServer, text_xml
from tests.fuzz.conftest import processes
from tests.fuzz.hostile import EMOJI, MB, TIMEOUT, below_500, nested

ROUNDS_OF_LOAD = 40
MAX_GROWTH_MB = 50  # measured growth from round 1 to round 2: see the report printed by the test
QUESTION = "补办的社保卡需要重新激活吗?"


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


def hostile_load(product, wechat: WeChatServer) -> int:
    """One round: the fuzz package's heaviest bodies against the three servers, same senders every round."""
    rest = f"{product.rasa_url}/webhooks/rest/webhook"
    hook = f"{product.rasa_url}/webhooks/wechat/webhook"
    chat = f"{product.web_url}/api/chat/messages"
    sent = 0
    with httpx.Client(timeout=TIMEOUT, headers=product.rest_headers) as client:
        session = client.post(f"{product.web_url}/api/chat/sessions").json()["session"]
        for i in range(ROUNDS_OF_LOAD):
            sender = f"fuzz-load-{i % 3}"
            requests = [
                ("POST", rest, {}, b"a" * MB),
                ("POST", rest, {}, nested(10_000, "[")),
                ("POST", rest, {}, nested(10_000, "{")),
                ("POST", rest, {}, json.dumps({"sender": sender, "message": EMOJI[0] * 100_000}).encode()),
                ("POST", rest, {}, json.dumps({"sender": sender, "message": EMOJI * 300 + "\x01\x1b"}).encode()),
                ("POST", rest, {}, b'{"sender": "x", "message": "\xff\xfe\xed\xa0\x80"}'),
                ("POST", hook, wechat.url_params(), BILLION_LAUGHS),
                ("POST", hook, wechat.url_params(), EXTERNAL_ENTITY),
                ("POST", hook, wechat.url_params(), b"<xml>" + b"a" * MB),
                ("POST", hook, {}, b"\x00" * MB),
                ("POST", hook, *wechat.request(text_xml(f"oFuzzLoad{i % 3:018d}", EMOJI * 100), safe=True)),
                ("POST", chat, {}, b"[" * (16 * 1024 - 10)),
                ("POST", chat, {}, b"a" * MB),
                ("POST", chat, {}, json.dumps({"message": EMOJI * 100}).encode()),
                ("POST", f"{product.web_url}/api/staff/login", {}, nested(5000, "{")),
            ]
            for method, url, params, body in requests:
                response = client.request(method, url, params=params, content=body, headers={"X-Chat-Session": session})
                below_500(response, f"{method} {url} {body[:80]!r}")
                sent += 1
    return sent


@pytest.fixture(scope="module")
def wechat(product):
    env = product.env
    return WeChatServer(env["WECHAT_TOKEN"], env["WECHAT_APP_ID"], env["WECHAT_ENCODING_AES_KEY"])


def test_memory_is_flat_under_repeated_hostile_load(product, wechat):
    pids = processes(product)
    watched = {name: pids[name] for name in ("rasa server", "web")}
    figures = {}
    for round_ in (1, 2):
        started = time.monotonic()
        sent = hostile_load(product, wechat)
        figures[round_] = {name: rss_mb(pid) for name, pid in watched.items()}
        print(f"round {round_}: {sent} requests in {time.monotonic() - started:.1f}s, RSS MB "
              + ", ".join(f"{name} {mb:.1f}" for name, mb in figures[round_].items()))
    for name in watched:
        growth = figures[2][name] - figures[1][name]
        print(f"{name}: RSS grew {growth:+.1f} MB from round 1 to round 2")
        assert growth < MAX_GROWTH_MB, f"{name} grew {growth:.1f} MB under the same load: {figures}"


def test_every_server_still_answers_and_none_was_restarted(product, wechat):
    answer = product.say("fuzz-after", QUESTION)
    assert any("激活" in (reply.get("text") or "") for reply in answer), answer

    page = httpx.get(f"{product.web_url}/", timeout=TIMEOUT)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]

    params, body = wechat.request(text_xml("oFuzzAfter0000000000000000001", QUESTION), safe=True)
    reply = None
    for _ in range(3):  # as WeChat retries: a slow first turn answers `success`, a retry gets the answer
        response = httpx.post(f"{product.rasa_url}/webhooks/wechat/webhook", params=params, content=body,
                              timeout=TIMEOUT)
        reply = wechat.read_reply(response.status_code, response.text, safe=True)
        if reply is not None:
            break
    assert reply and "激活" in reply, reply

    assert processes(product) == product.pids_at_start, "a process was restarted during the fuzzing"
    launcher = product.output.read_text(errors="replace")
    assert "starting it again" not in launcher, launcher[-2000:]
