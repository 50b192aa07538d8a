"""The customer-service message API client against a local fake of WeChat's API."""
import asyncio
import logging

import httpx
import pytest

from bot.channels.wechat.api_client import CustomerServiceClient, WeChatAPIError, mask_secrets
from bot.channels.wechat.state import MemoryState
from tests.support.wechat_channel import APP_ID, APP_SECRET as SECRET


def client_for(api, state=None, secret=SECRET):
    return CustomerServiceClient(api.base_url, APP_ID, secret, state or MemoryState())


async def test_sends_text_and_caches_the_token(fake_api):
    client = client_for(fake_api)
    await client.send_text("oUser1", "第一条")
    await client.send_text("oUser2", "second")
    assert fake_api.token_requests == 1
    assert fake_api.sent == [
        {"touser": "oUser1", "msgtype": "text", "text": {"content": "第一条"}},
        {"touser": "oUser2", "msgtype": "text", "text": {"content": "second"}},
    ]


async def test_the_token_is_renewed_five_minutes_before_it_expires(fake_api):
    now = [0.0]
    client = client_for(fake_api, MemoryState(clock=lambda: now[0]))
    await client.send_text("o1", "a")
    now[0] += 7200 - 300 - 1  # the fake issues tokens for 7200 s
    await client.send_text("o1", "b")
    assert fake_api.token_requests == 1
    now[0] += 2
    await client.send_text("o1", "c")
    assert fake_api.token_requests == 2
    assert [m["text"]["content"] for m in fake_api.sent] == ["a", "b", "c"]


async def test_concurrent_sends_fetch_one_token(fake_api):
    client = client_for(fake_api)
    await asyncio.gather(*(client.send_text(f"o{n}", "x") for n in range(5)))
    assert fake_api.token_requests == 1 and len(fake_api.sent) == 5


async def test_replicas_share_the_token_through_the_state(fake_api):
    shared = MemoryState()
    await client_for(fake_api, shared).send_text("o1", "a")
    await client_for(fake_api, shared).send_text("o2", "b")
    assert fake_api.token_requests == 1


@pytest.mark.parametrize("errcode", [40001, 42001])
async def test_an_invalid_or_expired_token_is_refreshed_once(fake_api, errcode, caplog):
    client = client_for(fake_api)
    await client.send_text("o1", "warm-up")
    fake_api.send_errcodes = [errcode]
    with caplog.at_level(logging.WARNING):
        await client.send_text("oSecretOpenId", "after refresh")
    assert fake_api.token_requests == 2
    assert fake_api.sent[-1]["text"]["content"] == "after refresh"
    assert "oSecretOpenId" not in caplog.text


async def test_a_busy_api_is_tried_once_more_without_a_new_token(fake_api):
    client = client_for(fake_api)
    fake_api.send_errcodes = [-1]
    await client.send_text("o1", "hello")
    assert fake_api.token_requests == 1
    assert fake_api.send_attempts == 2
    assert len(fake_api.sent) == 1


async def test_other_errcodes_are_raised_and_logged_masked(fake_api, caplog):
    client = client_for(fake_api)
    fake_api.send_errcodes = [45015]  # the user has not written for 48 hours
    with caplog.at_level(logging.INFO), pytest.raises(WeChatAPIError) as error:
        await client.send_text("oSecretOpenId", "secret text 张三")
    assert error.value.errcode == 45015
    assert fake_api.send_attempts == 1 and fake_api.sent == []
    assert "45015" in caplog.text
    for leaked in ("oSecretOpenId", "secret text", "张三", "token-1", SECRET):
        assert leaked not in caplog.text


async def test_repeated_token_errors_give_up_after_one_retry(fake_api):
    client = client_for(fake_api)
    fake_api.send_errcodes = [40001, 40001]
    with pytest.raises(WeChatAPIError) as error:
        await client.send_text("o1", "x")
    assert error.value.errcode == 40001
    assert fake_api.send_attempts == 2


async def test_a_wrong_secret_is_an_error(fake_api):
    with pytest.raises(WeChatAPIError) as error:
        await client_for(fake_api, secret="wrong").send_text("o1", "x")
    assert error.value.errcode == 40125
    with pytest.raises(WeChatAPIError):
        await client_for(fake_api, secret="").send_text("o1", "x")
    assert fake_api.sent == []


async def test_an_unreachable_api_is_an_http_error():
    client = CustomerServiceClient("http://127.0.0.1:9", APP_ID, SECRET, MemoryState(), timeout=2)
    with pytest.raises(httpx.HTTPError):
        await client.send_text("o1", "x")


async def test_httpx_request_logs_do_not_show_the_token_or_secret(fake_api, caplog):
    with caplog.at_level(logging.INFO, logger="httpx"):
        await client_for(fake_api).send_text("o1", "x")
    assert "cgi-bin/token" in caplog.text and "custom/send" in caplog.text
    assert SECRET not in caplog.text and "token-1" not in caplog.text
    assert "access_token=***" in caplog.text


def test_mask_secrets():
    assert mask_secrets("GET /cgi-bin/token?appid=wx1&secret=abc&x=1") == "GET /cgi-bin/token?appid=wx1&secret=***&x=1"
    assert mask_secrets("POST /send?access_token=T0K3N") == "POST /send?access_token=***"
