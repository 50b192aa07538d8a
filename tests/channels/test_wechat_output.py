"""The `wechat` output channel: what Rasa's HTTP API makes the assistant say to a
follower (trigger_intent with output_channel=wechat) goes out through the
customer-service API (a local fake of WeChat's), gathered into one message."""
import asyncio
from types import SimpleNamespace

import rasa.server

from bot.channels.wechat import output
from bot.channels.wechat.output import WeChatOutput
from bot.channels.wechat.rendering import Option
from bot.channels.wechat.state import MemoryState
from tests.support.wechat_channel import FakeHandoffClient, make_channel

OPENID = "oFollower000000000000000001"


def channel_for(fake_api):
    return make_channel(fake_api.base_url, state=MemoryState(), handoff_client=FakeHandoffClient())


def contents(sent):
    return [message["text"]["content"] for message in sent]


def test_rasa_picks_this_output_channel_for_output_channel_wechat(fake_api):
    channel = channel_for(fake_api)
    request = SimpleNamespace(args={"output_channel": "wechat"},
                              app=SimpleNamespace(ctx=SimpleNamespace(input_channels=[channel])))
    chosen = rasa.server._get_output_channel(request, None)
    assert isinstance(chosen, WeChatOutput) and chosen.name() == "wechat"


async def test_what_one_trigger_says_goes_as_one_message_with_numbered_options(fake_api):
    channel = channel_for(fake_api)
    out = channel.get_output_channel()
    # as Rasa's processor sends an action's messages, the hand-over payload among them
    await out.send_response(OPENID, {"text": "暂时没有工作人员接入（已等待 10 分钟）"})
    await out.send_response(OPENID, {"custom": {"handoff": {"id": 3, "status": "waiting", "position": 1}}})
    await out.send_response(OPENID, {"text": "需要工作人员在工作时间给您回电吗？",
                                     "buttons": [{"title": "需要", "payload": "/affirm"},
                                                 {"title": "不用了", "payload": "/deny"}]})
    sent = await fake_api.sent_messages(1)
    await channel.turns.drain()
    assert len(fake_api.sent) == 1 and sent[0]["touser"] == OPENID
    assert contents(sent) == ["暂时没有工作人员接入（已等待 10 分钟）\n\n需要工作人员在工作时间给您回电吗？\n"
                              "1. 需要\n2. 不用了\n回复数字选择"]
    assert "handoff" not in sent[0]["text"]["content"]
    # the follower's "1" picks the first option; the payload marked the follower
    assert await channel.state.options(OPENID) == [Option("需要", "/affirm"), Option("不用了", "/deny")]
    assert await channel.state.handoff_marked(OPENID)


async def test_messages_far_apart_go_as_messages_of_their_own(fake_api, monkeypatch):
    monkeypatch.setattr(output, "QUIET_SECONDS", 0.05)
    channel = channel_for(fake_api)
    out = channel.get_output_channel()
    await out.send_response(OPENID, {"text": "工作人员 王** 已接入，请直接说您的问题"})
    await fake_api.sent_messages(1)
    await out.send_response(OPENID, {"text": "工作人员已结束本次服务"})
    await fake_api.sent_messages(2)
    await channel.turns.drain()
    assert contents(fake_api.sent) == ["工作人员 王** 已接入，请直接说您的问题", "工作人员已结束本次服务"]


async def test_gathering_ends_after_the_longest_wait(fake_api, monkeypatch):
    monkeypatch.setattr(output, "QUIET_SECONDS", 0.2)
    monkeypatch.setattr(output, "MAX_GATHER_SECONDS", 0.3)
    channel = channel_for(fake_api)
    out = channel.get_output_channel()
    for n in range(6):  # a message every 0.1 s: never quiet for 0.2 s
        await out.send_response(OPENID, {"text": f"part {n}"})
        await asyncio.sleep(0.1)
    await channel.turns.drain()
    assert len(fake_api.sent) >= 2
    assert "\n\n".join(contents(fake_api.sent)) == "\n\n".join(f"part {n}" for n in range(6))


async def test_a_long_text_sends_its_first_part_and_more_fetches_the_rest(fake_api):
    channel = channel_for(fake_api)
    out = channel.get_output_channel()
    long_text = "\n".join(f"第{n}条：社保卡补办需要携带本人有效身份证件到任一服务网点办理。" for n in range(60))
    await out.send_response(OPENID, {"text": long_text})
    await fake_api.sent_messages(1)
    await channel.turns.drain()
    first = contents(fake_api.sent)[0]
    assert first.endswith("（内容较长，回复“继续”查看余下部分）") and len(first.encode()) <= 1800
    assert await channel.state.next_part(OPENID)


async def test_only_a_payload_sends_nothing(fake_api):
    channel = channel_for(fake_api)
    out = channel.get_output_channel()
    await out.send_response(OPENID, {"custom": {"handoff": {"id": 3, "status": "claimed"}}})
    await asyncio.sleep(output.QUIET_SECONDS + 0.1)
    await channel.turns.drain()
    assert fake_api.send_attempts == 0
    assert await channel.state.handoff_marked(OPENID)


async def test_a_refused_delivery_is_logged_and_dropped(fake_api, caplog):
    channel = channel_for(fake_api)
    fake_api.send_errcodes = [45015]
    await channel.get_output_channel().send_response(OPENID, {"text": "工作人员 王** 已接入"})
    await asyncio.sleep(output.QUIET_SECONDS)
    await channel.turns.drain()
    assert fake_api.send_attempts == 1 and fake_api.sent == []
    assert "not delivered" in caplog.text and OPENID not in caplog.text and "王" not in caplog.text
