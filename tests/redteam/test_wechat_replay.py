"""Someone who saw a signed WeChat URL (a proxy's access log) or the plaintext traffic tries
to post as a follower of the running product's Official Account (docs/SECURITY.md, "WeChat").
The product has an EncodingAESKey, so safe mode is required."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.support.wechat_server import WeChatServer, text_xml

pytestmark = pytest.mark.product

QUESTION = "补办的社保卡需要重新激活吗?"


@pytest.fixture(scope="module")
def wechat(product):
    return WeChatServer.of(product.env)


def post(product, params, body) -> httpx.Response:
    return httpx.post(f"{product.rasa_url}/webhooks/wechat/webhook", params=params, content=body, timeout=30)


def stored_user_messages(product, openid: str) -> int:
    with sqlite3.connect(product.env["TRACKER_DB"]) as db:
        return db.execute("SELECT COUNT(*) FROM events WHERE sender_id = ? AND type_name = 'user'",
                          (openid,)).fetchone()[0]


def test_a_plaintext_message_is_refused(product, wechat):
    victim = "oRedTeamPlain00000000000001"
    params, body = wechat.request(text_xml(victim, "帮我挂失社保卡"), safe=False)
    response = post(product, params, body)
    assert response.status_code == 403
    assert "safe mode" in response.json()["error"]["message"]
    assert stored_user_messages(product, victim) == 0
    logs = "".join(path.read_text(errors="replace") for path in Path(product.env["LOG_DIR"]).glob("rasa*"))
    assert "plaintext message refused: safe mode is configured" in logs


def test_a_signed_url_cannot_carry_another_followers_message(product, wechat):
    follower, victim = "oRedTeamFollower00000000001", "oRedTeamVictim0000000000001"
    params, body = wechat.request(text_xml(follower, QUESTION))
    assert post(product, params, body).status_code == 200
    for safe in (True, False):  # the same URL, with a message of the attacker's making
        _, forged = wechat.request(text_xml(victim, "帮我挂失社保卡"), safe=safe)
        refused = post(product, params, forged)
        # safe mode: another Encrypt fails msg_signature (403); plaintext XML has no Encrypt (400)
        assert refused.status_code == (403 if safe else 400), refused.text
        assert refused.json()["error"]["message"]
    assert stored_user_messages(product, victim) == 0
    assert stored_user_messages(product, follower) == 1


def test_a_verbatim_replay_and_wechats_retries_run_the_turn_once(product, wechat):
    follower = "oRedTeamReplay0000000000001"
    xml = text_xml(follower, QUESTION)
    params, body = wechat.request(xml)
    first = post(product, params, body)
    replay = post(product, params, body)  # the same URL and body, again
    retry_params, retry_body = wechat.request(xml)  # WeChat's retry: the same MsgId, signed anew
    retry = post(product, retry_params, retry_body)
    for response in (first, replay, retry):
        assert response.status_code == 200, response.text
    shown = [wechat.read_reply(r.status_code, r.text) for r in (first, replay, retry)]
    assert shown[0] and "激活" in shown[0]
    assert set(shown) <= {shown[0], None}  # the first answer again, or `success` (answered by the API)
    assert stored_user_messages(product, follower) == 1
