"""POST /webhooks/wechat/staff-message: a member of staff's message to a follower through
the customer-service API (a local fake of WeChat's), for the web process only."""
import logging

import httpx
import pytest

from bot.channels.wechat import staff_messages
from bot.channels.wechat.rendering import Option
from bot.channels.wechat.state import MemoryState
from bot.core.service_auth import REST_SECRET_HEADER
from tests.support.wechat_channel import REST_SECRET, FakeAssistant, make_channel, serve

OPENID = "oFollowerStaff00000000000001"
HEADERS = {REST_SECRET_HEADER: REST_SECRET}


@pytest.fixture
async def client():
    async with httpx.AsyncClient(timeout=30) as http:
        yield http


def staff_url(webhook_url):
    return webhook_url.rsplit("/", 1)[0] + "/staff-message"


async def test_a_staff_message_is_sent_and_the_follower_s_options_forgotten(client, fake_api):
    channel = make_channel(fake_api.base_url, state=MemoryState())
    await channel.state.set_options(OPENID, [Option("挂失", "/report_loss")])
    async with serve(channel, FakeAssistant()) as url:
        response = await client.post(staff_url(url), headers=HEADERS,
                                     json={"openid": OPENID, "text": "  您好，我是王**，请问卡是在哪里丢的？ "})
    assert (response.status_code, response.json()) == (200, {"sent": True})
    assert fake_api.sent == [{"touser": OPENID, "msgtype": "text", "text": {"content": "您好，我是王**，请问卡是在哪里丢的？"}}]
    assert await channel.state.options(OPENID) == []  # a "1" from the follower is for the person now


@pytest.mark.parametrize("headers, status, code", [
    ({}, 401, "unauthorized"),
    ({REST_SECRET_HEADER: "wrong"}, 401, "unauthorized"),
])
async def test_only_the_web_process_may_send(client, fake_api, headers, status, code):
    async with serve(make_channel(fake_api.base_url), FakeAssistant()) as url:
        response = await client.post(staff_url(url), headers=headers, json={"openid": OPENID, "text": "hi"})
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert fake_api.send_attempts == 0


async def test_without_a_secret_the_route_is_closed(client, fake_api):
    async with serve(make_channel(fake_api.base_url, rest_secret=""), FakeAssistant()) as url:
        response = await client.post(staff_url(url), headers={REST_SECRET_HEADER: ""}, json={"openid": OPENID, "text": "x"})
    assert response.status_code == 503 and fake_api.send_attempts == 0


@pytest.mark.parametrize("body", [
    b"not json", b"[]", b'{"openid": "o1"}', b'{"openid": "", "text": "x"}', b'{"openid": "o1", "text": "   "}',
    b'{"openid": 5, "text": "x"}', b'{"openid": "o1", "text": "\\u0000"}',
    ('{"openid": "o1", "text": "' + "字" * 4001 + '"}').encode(),
])
async def test_bad_bodies_are_refused(client, fake_api, body):
    async with serve(make_channel(fake_api.base_url), FakeAssistant()) as url:
        response = await client.post(staff_url(url), headers=HEADERS, content=body)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_request")
    assert fake_api.send_attempts == 0


@pytest.mark.parametrize("errcode, words", [
    (45015, "48 小时"), (45047, "条数超限"), (43004, "取消关注"), (40003, "OpenID"), (48001, "权限"), (99999, "99999"),
])
async def test_wechat_s_refusal_comes_back_with_a_plain_message(client, fake_api, errcode, words, caplog):
    async with serve(make_channel(fake_api.base_url), FakeAssistant()) as url:
        fake_api.send_errcodes = [errcode]
        with caplog.at_level(logging.INFO):
            response = await client.post(staff_url(url), headers=HEADERS, json={"openid": OPENID, "text": "您的卡已补办"})
    assert response.status_code == 502
    error = response.json()["error"]
    assert (error["code"], error["errcode"]) == ("wechat_refused", errcode)
    assert words in error["message"] and error["message"] == staff_messages.refusal_message(errcode)
    assert fake_api.sent == []
    assert OPENID not in caplog.text and "您的卡" not in caplog.text


@pytest.mark.parametrize("errcode", [40001, 42001, -1])
async def test_an_expired_token_or_busy_is_retried_once(client, fake_api, errcode):
    async with serve(make_channel(fake_api.base_url), FakeAssistant()) as url:
        fake_api.send_errcodes = [errcode]
        response = await client.post(staff_url(url), headers=HEADERS, json={"openid": OPENID, "text": "在的"})
    assert response.status_code == 200
    assert [m["text"]["content"] for m in fake_api.sent] == ["在的"]
    assert fake_api.send_attempts == 2


async def test_an_unreachable_wechat_is_a_refusal_without_errcode(client):
    async with serve(make_channel("http://127.0.0.1:9"), FakeAssistant()) as url:
        response = await client.post(staff_url(url), headers=HEADERS, json={"openid": OPENID, "text": "在的"})
    assert response.status_code == 502
    assert response.json()["error"] == {"code": "wechat_refused", "errcode": None,
                                        "message": staff_messages.UNREACHABLE}


async def test_a_long_message_goes_in_parts_in_order(client, fake_api):
    text = "\n".join(f"第{n}步：请携带本人身份证到任一服务网点，填写补办申请表并缴纳工本费。" for n in range(40))
    async with serve(make_channel(fake_api.base_url), FakeAssistant()) as url:
        response = await client.post(staff_url(url), headers=HEADERS, json={"openid": OPENID, "text": text})
    assert response.status_code == 200
    parts = [m["text"]["content"] for m in fake_api.sent]
    assert len(parts) >= 2 and all(len(p.encode()) <= staff_messages.MAX_PART_BYTES for p in parts)
    assert "\n".join(parts) == text and "继续" not in "".join(parts)
