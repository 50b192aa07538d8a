"""The same hostile load twice: the servers' memory stays flat (and, as after
every fuzz test, nothing restarts and every server still answers normally)."""
import json
import time

import httpx
import pytest

from tests.fuzz.hostile import EMOJI, MB, TIMEOUT, below_500, nested
from tests.support.wechat_server import BILLION_LAUGHS, EXTERNAL_ENTITY, WeChatServer, text_xml

pytestmark = [pytest.mark.product, pytest.mark.fuzz]

ROUNDS_OF_LOAD = 40
MAX_GROWTH_MB = 50  # measured growth from round 1 to round 2: see the report printed by the test


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


def test_memory_is_flat_under_repeated_hostile_load(product, wechat):
    pids = product.processes()
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
