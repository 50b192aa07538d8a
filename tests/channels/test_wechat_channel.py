"""The `wechat` input channel over HTTP, with a stand-in for Rasa that counts what it is told."""
import asyncio
import logging
import time

import httpx
import pytest

from bot.channels.wechat import rendering
from bot.channels.wechat.channel import MAX_BODY_BYTES, WeChatConfig
from bot.channels.wechat.crypto import MessageCrypto, signature
from bot.channels.wechat.state import HANDED_OFF, REPLIED, Outcome, RedisState, hashed
from tests.support.redis_server import CHANNEL_DB, redis_url
from tests.support.wait import wait_until_async
from tests.support.wechat_channel import AES_KEY, APP_ID, TOKEN, FakeAssistant, make_channel, serve
from tests.support.wechat_server import (
    ACCOUNT, BILLION_LAUGHS, EXTERNAL_ENTITY, WeChatServer, event_xml, image_xml, text_xml, voice_xml,
)

WECHAT = WeChatServer(TOKEN, APP_ID, AES_KEY)


async def post(client, url, xml, safe=True, **url_overrides):
    params, body = WECHAT.request(xml, safe=safe, **url_overrides)
    return await client.post(url, params=params, content=body)


async def say(client, url, xml, safe=True):
    """The text the user sees for one message (None for `success`)."""
    response = await post(client, url, xml, safe=safe)
    return WECHAT.read_reply(response.status_code, response.text, safe=safe)


@pytest.fixture
async def client():
    async with httpx.AsyncClient(timeout=30) as http:
        yield http


# URL verification

async def test_url_verification_returns_echostr(client):
    async with serve(make_channel(), FakeAssistant()) as url:
        for extra in ({}, {"encrypt_type": "aes"}):
            response = await client.get(url, params={**WECHAT.url_params(), "echostr": "shr5ch+/=", **extra})
            assert (response.status_code, response.text) == (200, "shr5ch+/=")


@pytest.mark.parametrize("tamper", ["bad signature", "missing signature", "old timestamp", "future timestamp"])
async def test_url_verification_refusals(client, tamper):
    params = WECHAT.url_params()
    if tamper == "bad signature":
        params["signature"] = "0" * 40
    elif tamper == "missing signature":
        del params["signature"]
    else:
        shift = -400 if tamper == "old timestamp" else 400
        params = WECHAT.url_params(timestamp=str(int(time.time()) + shift))
    async with serve(make_channel(), FakeAssistant()) as url:
        response = await client.get(url, params={**params, "echostr": "e"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


# messages in both modes

@pytest.mark.parametrize("safe", [True, False], ids=["safe-mode", "plaintext"])
async def test_text_round_trip(client, safe):
    assistant = FakeAssistant()
    # Plaintext only works for an account without an EncodingAESKey.
    async with serve(make_channel(**({} if safe else {"encoding_aes_key": ""})), assistant) as url:
        response = await post(client, url, text_xml("oUserA", "补办的社保卡需要激活吗"), safe=safe)
        assert response.headers["content-type"].startswith("application/xml")
        shown = WECHAT.read_reply(response.status_code, response.text, safe=safe, to_user="oUserA")
        assert shown == "answer to 补办的社保卡需要激活吗"
        if safe:
            assert "answer to" not in response.text  # the reply itself is encrypted
    message = assistant.received[0]
    assert (message.sender_id, message.input_channel) == ("oUserA", "wechat")
    assert message.metadata == {"wechat": {"msg_type": "text"}}


async def test_each_openid_is_its_own_conversation(client):
    assistant = FakeAssistant()
    async with serve(make_channel(), assistant) as url:
        await say(client, url, text_xml("oUserA", "one"))
        await say(client, url, text_xml("oUserB", "two"))
    assert [(m.sender_id, m.text) for m in assistant.received] == [("oUserA", "one"), ("oUserB", "two")]


# refusals: the assistant hears nothing of them

def safe_request_with(xml=None, encrypted=None, crypto=None):
    """A safe-mode request whose Encrypt is `encrypted` (or `xml` under `crypto`), correctly signed."""
    encrypted = encrypted or (crypto or WECHAT.crypto).encrypt(xml)
    params = WECHAT.url_params()
    params.update(encrypt_type="aes", msg_signature=signature(TOKEN, params["timestamp"], params["nonce"], encrypted))
    return params, f"<xml><ToUserName>{ACCOUNT}</ToUserName><Encrypt>{encrypted}</Encrypt></xml>".encode()


def refused_requests():
    xml = text_xml("oUserA", "hello")
    params, body = WECHAT.request(xml)
    old = str(int(time.time()) - 600)
    stale = {**params, "timestamp": old, "signature": signature(TOKEN, old, params["nonce"]),
             "msg_signature": signature(TOKEN, old, params["nonce"], WECHAT.crypto.encrypt(xml))}
    other_app = MessageCrypto(TOKEN, AES_KEY, "wx_someone_else")
    other_key = MessageCrypto(TOKEN, "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut", APP_ID)
    return {
        "bad url signature": (403, {**params, "signature": "0" * 40}, body),
        "missing url signature": (403, {k: v for k, v in params.items() if k != "signature"}, body),
        "missing msg_signature": (403, {k: v for k, v in params.items() if k != "msg_signature"}, body),
        "msg_signature is the url signature": (403, {**params, "msg_signature": params["signature"]}, body),
        "old timestamp": (403, stale, body),
        "wrong appid": (403, *safe_request_with(xml, crypto=other_app)),
        "another AES key": (400, *safe_request_with(xml, crypto=other_key)),
        "Encrypt not base64": (400, *safe_request_with(encrypted="%%%not-base64%%%")),
        "safe mode without Encrypt": (400, {**params}, b"<xml><ToUserName>gh</ToUserName></xml>"),
        "oversized body": (413, params, b"<xml>" + b"x" * MAX_BODY_BYTES + b"</xml>"),
        "malformed XML": (400, WECHAT.request("x", safe=False)[0], b"<xml><Content>unclosed"),
        "malformed XML inside Encrypt": (400, *safe_request_with("<xml><Content>unclosed")),
        "XML bomb": (400, WECHAT.request("x", safe=False)[0], BILLION_LAUGHS),
        "external entity": (400, WECHAT.request("x", safe=False)[0], EXTERNAL_ENTITY),
        "XML bomb inside Encrypt": (400, *safe_request_with(BILLION_LAUGHS.decode())),
        "missing fields": (400, WECHAT.request("x", safe=False)[0], b"<xml><Content>hi</Content></xml>"),
    }


# Refusals of the XML parser, for a plaintext account (without an EncodingAESKey).
PLAINTEXT_CASES = {"malformed XML", "XML bomb", "external entity", "missing fields"}


@pytest.mark.parametrize("case", list(refused_requests()))
async def test_refusals(client, case):
    status, params, body = refused_requests()[case]
    assistant = FakeAssistant()
    async with serve(make_channel(**({"encoding_aes_key": ""} if case in PLAINTEXT_CASES else {})), assistant) as url:
        response = await client.post(url, params=params, content=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]
    assert "Traceback" not in response.text
    assert assistant.received == []


async def test_an_empty_token_refuses_everything_and_says_so_once(client, caplog):
    with caplog.at_level(logging.WARNING):
        channel = make_channel(token="")
    assert caplog.text.count("WECHAT_TOKEN is empty") == 1
    assistant = FakeAssistant()
    async with serve(channel, assistant) as url:
        get = await client.get(url, params={**WECHAT.url_params(), "echostr": "e"})
        posted = await post(client, url, text_xml("oUserA", "hello"))
    assert get.status_code == posted.status_code == 503
    assert "WECHAT_TOKEN" in posted.json()["error"]["message"]
    assert assistant.received == []


async def test_an_invalid_aes_key_refuses_every_message(client, caplog):
    """A configured key means safe mode; a broken one must not fall back to plaintext."""
    with caplog.at_level(logging.ERROR):
        channel = make_channel(encoding_aes_key="not-a-key")
    assert "EncodingAESKey must be 43 characters" in caplog.text
    assistant = FakeAssistant()
    async with serve(channel, assistant) as url:
        assert (await post(client, url, text_xml("oUserA", "hi"))).status_code == 503
        assert (await post(client, url, text_xml("oUserA", "hi"), safe=False)).status_code == 503
    assert assistant.received == []


# safe mode required, and one message per signed URL

async def test_plaintext_is_refused_when_safe_mode_is_configured(client, caplog):
    assistant = FakeAssistant()
    with caplog.at_level(logging.WARNING):
        async with serve(make_channel(), assistant) as url:
            response = await post(client, url, text_xml("oVictim", "帮我挂失"), safe=False)
            explicit = await post(client, url, text_xml("oVictim", "帮我挂失"), safe=False, encrypt_type="raw")
    assert response.status_code == explicit.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert "safe mode" in response.json()["error"]["message"]
    assert caplog.text.count("plaintext message refused: safe mode is configured") == 2
    assert assistant.received == []


@pytest.mark.parametrize("safe", [True, False], ids=["safe-mode", "plaintext"])
async def test_a_signed_url_carries_one_message_only(client, safe):
    """Whoever saw a signed URL (a proxy's access log) cannot post with it as another follower."""
    assistant = FakeAssistant()
    channel = make_channel(**({} if safe else {"encoding_aes_key": ""}))
    async with serve(channel, assistant) as url:
        params, body = WECHAT.request(text_xml("oUserA", "怎么激活"), safe=safe)
        first = await client.post(url, params=params, content=body)
        assert WECHAT.read_reply(first.status_code, first.text, safe=safe) == "answer to 怎么激活"
        _, forged = WECHAT.request(text_xml("oVictim", "帮我挂失"), safe=safe)
        replayed = await client.post(url, params=params, content=forged)
    assert replayed.status_code == 403, replayed.text
    assert replayed.json()["error"]["code"] == "forbidden"
    assert [(m.sender_id, m.text) for m in assistant.received] == [("oUserA", "怎么激活")]


async def test_a_verbatim_replay_never_runs_a_second_turn(client):
    """The same URL with the same body (a replay, or WeChat retrying with the URL it
    signed first) gets the first answer while it is remembered, then `success`: never a turn."""
    assistant = FakeAssistant()
    channel = make_channel()
    xml = text_xml("oUserA", "怎么激活", msg_id=987654321)
    async with serve(channel, assistant) as url:
        params, body = WECHAT.request(xml)
        answers = [WECHAT.read_reply(r.status_code, r.text)
                   for r in [await client.post(url, params=params, content=body) for _ in range(2)]]
        assert answers == ["answer to 怎么激活"] * 2
        await channel.state._delete("msg:" + hashed("msg:987654321"))  # the message's record expired
        late = await client.post(url, params=params, content=body)
        assert WECHAT.read_reply(late.status_code, late.text) is None  # `success`
    assert assistant.texts == ["怎么激活"]


# WeChat's retries

async def test_an_unreachable_redis_gets_503_so_wechat_retries(client):
    assistant = FakeAssistant()
    async with serve(make_channel(state=RedisState("redis://127.0.0.1:1/0")), assistant) as url:
        response = await post(client, url, text_xml("oUserA", "hello"))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert assistant.received == []


async def test_a_retried_message_is_answered_from_the_first_turn(client):
    assistant = FakeAssistant()
    xml = text_xml("oUserA", "怎么激活")
    async with serve(make_channel(), assistant) as url:
        answers = [await say(client, url, xml) for _ in range(3)]
    assert answers == ["answer to 怎么激活"] * 3
    assert assistant.texts == ["怎么激活"]


def waits_of(state) -> list:
    """Records each request that waits for another request's turn (a retry) on `state`."""
    waits = []
    wait_outcome = state.wait_outcome

    async def recorded(message_id, timeout):
        waits.append(message_id)
        return await wait_outcome(message_id, timeout)

    state.wait_outcome = recorded
    return waits


async def test_concurrent_retries_while_the_first_is_in_flight(client, state):
    """Both retries wait while the first turn certainly still runs (the assistant
    answers only once they do): one turn, the same answer three times."""
    assistant = FakeAssistant(held=True)
    waits = waits_of(state)
    xml = text_xml("oUserA", "怎么激活")
    async with serve(make_channel(state=state, reply_seconds=60), assistant) as url:
        first = asyncio.ensure_future(say(client, url, xml))
        await wait_until_async(lambda: assistant.received, "the first request's turn")
        retries = [asyncio.ensure_future(say(client, url, xml)) for _ in range(2)]
        await wait_until_async(lambda: len(waits) == 2, "both retries waiting for the first turn")
        assistant.release()
        answers = await asyncio.gather(first, *retries)
    assert answers == ["answer to 怎么激活"] * 3
    assert assistant.texts == ["怎么激活"]


@pytest.mark.redis
async def test_two_replicas_sharing_redis_run_a_message_once(client, redis_prefix):
    assistant = FakeAssistant(held=True)
    xml = text_xml("oUserA", "挂失")
    stores = [RedisState(redis_url(CHANNEL_DB), prefix=redis_prefix) for _ in range(2)]
    waits = [waits_of(store) for store in stores]
    async with serve(make_channel(state=stores[0], reply_seconds=60), assistant) as url_a, \
            serve(make_channel(state=stores[1], reply_seconds=60), assistant) as url_b:
        requests = [asyncio.ensure_future(say(client, url, xml)) for url in (url_a, url_b, url_b)]
        await wait_until_async(lambda: len(waits[0]) + len(waits[1]) == 2, "two requests waiting for the third's turn")
        assistant.release()
        answers = await asyncio.gather(*requests)
    assert answers == ["answer to 挂失"] * 3
    assert assistant.texts == ["挂失"]


async def test_a_retried_event_is_handled_once(client):
    channel = make_channel()
    created = int(time.time())
    xml = event_xml("oUserA", "subscribe", create_time=created)
    async with serve(channel, FakeAssistant()) as url:
        assert await say(client, url, xml) == rendering.WELCOME
        assert await channel.state.outcome(f"event:oUserA:{created}:subscribe") == Outcome(REPLIED, rendering.WELCOME)
        assert await say(client, url, xml) == rendering.WELCOME  # from the stored outcome
        assert not await channel.state.claim(f"event:oUserA:{created}:subscribe")
        assert await say(client, url, event_xml("oUserA", "unsubscribe", create_time=created + 1)) is None


# the slow path: `success` now, the answer by the customer-service API. Delivery, retries during
# a slow turn, an expired token and a refused delivery are tested against the real product
# (tests/channels/test_wechat_slow_path.py); here what needs a turn held or a hang-up.

async def test_a_turn_finishes_and_is_delivered_when_wechat_hangs_up(fake_api):
    """sanic cancels the handler when the client disconnects; the turn must go on."""
    assistant = FakeAssistant(delay=1.0)
    channel = make_channel(api_base=fake_api.base_url, reply_seconds=4.5)
    async with serve(channel, assistant) as url:
        params, body = WECHAT.request(text_xml("oGoneUser", "挂断"))
        async with httpx.AsyncClient(timeout=0.3) as impatient:
            with pytest.raises(httpx.TimeoutException):
                await impatient.post(url, params=params, content=body)
        sent = await fake_api.sent_messages(1)
    assert sent == [{"touser": "oGoneUser", "msgtype": "text", "text": {"content": "answer to 挂断"}}]
    assert assistant.texts == ["挂断"]


async def test_stopping_the_server_waits_for_running_turns(client, fake_api):
    channel = make_channel(api_base=fake_api.base_url, reply_seconds=0.2)
    async with serve(channel, FakeAssistant(delay=1.0)) as url:
        assert await say(client, url, text_xml("oUserA", "last words")) is None
    # serve() has stopped the server as sanic does on SIGTERM: the answer went out first.
    assert [m["text"]["content"] for m in fake_api.sent] == ["answer to last words"]


# what the user sees

def did_you_mean(text):
    if text != "卡":
        return [{"text": f"payload {text}" if text.startswith("/") else f"answer to {text}"}]
    return [{"text": "您是想问以下哪个问题？", "buttons": [
        {"title": "补办后要激活吗", "payload": "/faq_activate"}, {"title": "都不是", "payload": "/out_of_scope"}]}]


async def test_numbered_options_send_the_payload(client):
    assistant = FakeAssistant(did_you_mean)
    async with serve(make_channel(), assistant) as url:
        shown = await say(client, url, text_xml("oUserA", "卡"))
        assert shown == "您是想问以下哪个问题？\n1. 补办后要激活吗\n2. 都不是\n回复数字选择"
        assert await say(client, url, text_xml("oUserB", "1")) == "answer to 1"  # B has no options
        assert await say(client, url, text_xml("oUserA", "１")) == "payload /faq_activate"
        assert await say(client, url, text_xml("oUserA", "1")) == "answer to 1"  # the options were replaced
    assert assistant.texts == ["卡", "1", "/faq_activate", "1"]


LONG = "补办社保卡相当于重新制发一张新卡，拿到新卡后要重新激活才能正常使用。" * 60


async def test_a_long_answer_comes_in_parts(client):
    assistant = FakeAssistant(lambda text: [{"text": LONG}])
    async with serve(make_channel(), assistant) as url:
        parts = [await say(client, url, text_xml("oUserA", "详细说说"))]
        while parts[-1].endswith(rendering.MORE_POINTER["zh"]):
            assert len(parts) < 10
            parts.append(await say(client, url, text_xml("oUserA", "继续")))
        assert await say(client, url, text_xml("oUserA", "继续")) == rendering.NOTHING_MORE["zh"]
        assert await say(client, url, text_xml("oUserA", "more")) == rendering.NOTHING_MORE["en"]
    assert len(parts) >= 4
    assert all(len(p.encode("utf-8")) <= rendering.MAX_REPLY_BYTES for p in parts)
    assert "".join(p.replace("\n" + rendering.MORE_POINTER["zh"], "") for p in parts) == LONG
    assert assistant.texts == ["详细说说"]  # "继续" never went to the assistant


async def test_subscribe_welcome_and_message_types(client):
    assistant = FakeAssistant()
    async with serve(make_channel(), assistant) as url:
        welcome = await say(client, url, event_xml("oNew", "subscribe"))
        assert "社保卡" in welcome and "挂失" in welcome and "激活" in welcome and "人工" in welcome
        assert await say(client, url, image_xml("oNew")) == rendering.UNSUPPORTED
        assert "文字和语音" in rendering.UNSUPPORTED
        assert await say(client, url, voice_xml("oNew")) == rendering.UNSUPPORTED
        assert await say(client, url, voice_xml("oNew", "怎么激活社保卡")) == "answer to 怎么激活社保卡"
        assert await say(client, url, event_xml("oNew", "CLICK")) == rendering.UNSUPPORTED
        assert await say(client, url, event_xml("oNew", "unsubscribe")) is None
    assert assistant.texts == ["怎么激活社保卡"]
    assert assistant.received[0].metadata == {"wechat": {"msg_type": "voice"}}


async def test_a_failing_turn_gets_an_apology(client):
    assistant = FakeAssistant(lambda text: [RuntimeError("model exploded")])
    async with serve(make_channel(), assistant) as url:
        assert await say(client, url, text_xml("oUserA", "你好")) == rendering.TURN_FAILED["zh"]
        assert await say(client, url, text_xml("oUserA", "hello")) == rendering.TURN_FAILED["en"]


async def test_the_channel_logs_no_message_text_or_openid(client, caplog):
    with caplog.at_level(logging.DEBUG):
        async with serve(make_channel(reply_seconds=0.2), FakeAssistant(delay=0.5)) as url:
            await say(client, url, text_xml("oPrivateOpenId", "张三的身份证号"))
            await client.post(url, params={"timestamp": "1"}, content=b"<xml/>")
    assert "oPrivateOpenId" not in caplog.text and "张三" not in caplog.text
    assert "refused a request" in caplog.text


async def test_the_handed_off_outcome_is_stored_for_retries(client):
    channel = make_channel(reply_seconds=0.1)
    xml = text_xml("oUserA", "slow", msg_id=123456789)
    async with serve(channel, FakeAssistant(delay=0.4)) as url:
        assert await say(client, url, xml) is None
        assert await channel.state.outcome("msg:123456789") == Outcome(HANDED_OFF)


# configuration

def test_credentials_yml_configures_the_channel_from_the_environment(monkeypatch):
    from rasa.core.run import create_http_input_channels

    from bot.core.paths import ROOT

    monkeypatch.setenv("WECHAT_TOKEN", "tok")
    monkeypatch.setenv("WECHAT_APP_ID", "wxabc")
    monkeypatch.setenv("WECHAT_APP_SECRET", "")
    monkeypatch.setenv("WECHAT_ENCODING_AES_KEY", AES_KEY)
    monkeypatch.setenv("WECHAT_API_BASE", "http://127.0.0.1:1")
    monkeypatch.setenv("WECHAT_REPLY_SECONDS", "3")
    monkeypatch.setenv("REDIS_URL", "")
    monkeypatch.setenv("REST_CHANNEL_SECRET", "rest-secret")
    monkeypatch.setenv("BACKEND_URL", "http://127.0.0.1:2")
    monkeypatch.setenv("BACKEND_SERVICE_TOKEN", "service-token")
    channels = {c.name(): c for c in create_http_input_channels(None, str(ROOT / "credentials.yml"))}
    assert set(channels) == {"rest", "wechat"}
    assert channels["rest"].secret == "rest-secret"
    config = channels["wechat"].config
    assert (config.token, config.app_id, config.app_secret, config.encoding_aes_key) == ("tok", "wxabc", "", AES_KEY)
    assert (config.api_base, config.reply_seconds, config.redis_url) == ("http://127.0.0.1:1", 3.0, "")
    assert channels["wechat"].crypto is not None
    # hand-overs: the backend and the staff-message route's secret come from the product's settings
    assert (config.backend_url, config.backend_token, config.rest_secret) == (
        "http://127.0.0.1:2", "service-token", "rest-secret")
    assert channels["wechat"].turns.handoffs.client.base_url == "http://127.0.0.1:2"


def test_empty_credentials_take_the_defaults_and_a_bad_deadline_is_refused():
    config = WeChatConfig.from_credentials({"token": "t", "api_base": "", "reply_seconds": None})
    assert (config.api_base, config.reply_seconds) == ("https://api.weixin.qq.com", 4.5)
    with pytest.raises(ValueError, match="WECHAT_REPLY_SECONDS"):
        WeChatConfig.from_credentials({"reply_seconds": "soon"})
