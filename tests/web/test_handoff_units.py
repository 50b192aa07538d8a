"""The web process's pieces of a live hand-over, without servers: messages
from tracker events (staff ones, time and id), a turn's custom payload, what
the citizen sees of a hand-over, the version counters of the shared state
(in the process, and in Redis), the long poll's parameter."""
from __future__ import annotations

import asyncio

import pytest

from bot.web.handoff_state import citizen_view, opened_live, output_channel, public_channel, staff_display_name
from bot.web.rasa_client import Reply, history_from_events, reply_from_messages, staff_metadata
from bot.web.shared_state import MemoryState, RedisState
from bot.web.staff.handoffs import transcript
from tests.support.redis_server import WEB_DB, redis_url


def test_staff_messages_are_marked_and_every_message_has_a_time_and_a_stable_id():
    events = [
        {"event": "user", "text": "转人工", "timestamp": 1741054507.120431},
        {"event": "bot", "text": "已为您转接人工客服", "timestamp": 1741054507.532118},
        {"event": "bot", "data": {"custom": {"handoff": {"id": 3, "status": "waiting", "position": 1}}},
         "timestamp": 1741054507.532119},  # the payload alone: not shown
        {"event": "user", "text": "我的卡丢了", "timestamp": 1741054520.0},
        {"event": "user", "text": "EXTERNAL: EXTERNAL_handoff_claimed", "metadata": {"is_external": True},
         "parse_data": {"intent": {"name": "EXTERNAL_handoff_claimed"}}, "timestamp": 1741054570.0},  # a trigger
        {"event": "bot", "text": "您好，请问有什么可以帮您？", "metadata": staff_metadata("c**"),
         "timestamp": 1741054571.002337},
        {"event": "bot", "text": "同一微秒", "timestamp": 1741054571.002337},
    ]
    history = history_from_events(events)
    assert [(m["from"], m["text"]) for m in history] == [
        ("user", "转人工"), ("bot", "已为您转接人工客服"), ("user", "我的卡丢了"),
        ("staff", "您好，请问有什么可以帮您？"), ("bot", "同一微秒")]
    assert history[3]["staff"] == "c**" and history[3]["buttons"] == []
    assert history[0]["at"] == "2025-03-04T02:15:07.120Z"
    ids = [m["id"] for m in history]
    assert len(set(ids)) == len(ids) and ids[4] == ids[3] + "-2"
    assert [m["id"] for m in history_from_events(events)] == ids  # the same in every answer


def test_a_turns_handoff_payload_is_taken_out_of_what_is_shown():
    reply = reply_from_messages([
        {"recipient_id": "web-x", "text": "已为您转接人工客服，您前面还有 0 位"},
        {"recipient_id": "web-x", "custom": {"handoff": {"id": 7, "status": "waiting", "position": 1}}},
        {"recipient_id": "web-x", "text": "好", "buttons": [{"title": "A", "payload": "/a"}, {"bad": 1}]},
    ])
    assert reply == Reply([{"text": "已为您转接人工客服，您前面还有 0 位", "buttons": []},
                           {"text": "好", "buttons": [{"title": "A", "payload": "/a"}]}],
                          {"id": 7, "status": "waiting", "position": 1})
    assert reply_from_messages([{"text": "hi"}]).handoff is None


def test_what_the_citizen_sees_of_a_handoff():
    assert citizen_view(None) is None
    assert citizen_view({"id": 7, "status": "waiting", "position": 2}) == \
        {"id": 7, "status": "waiting", "position": 2, "staff": None}
    claimed = {"id": 7, "status": "claimed", "position": None, "claimed_by": "counter1", "staff_name": "c**"}
    assert citizen_view(claimed) == {"id": 7, "status": "claimed", "position": None, "staff": "c**"}
    assert citizen_view({**claimed, "staff_name": None})["staff"] == "c**"  # never the username
    assert citizen_view({"id": 7, "status": "closed"}) is None
    assert citizen_view({"status": "waiting", "mode": "callback"}) is None  # the time-out: the bot answers again
    assert staff_display_name("wang.li") == "w**" and staff_display_name("") == "**"
    assert opened_live({"id": 7, "status": "waiting", "mode": "live", "position": 1})
    assert opened_live({"id": 7, "status": "open", "mode": "live"})  # the backend's older word
    assert not opened_live({"status": "waiting", "mode": "callback"}) and not opened_live({"status": "closed"})
    assert not opened_live(None)
    assert output_channel("wechat") == "wechat" and output_channel("rest") == output_channel(None) == "rest"
    assert public_channel("rest") == "web" and public_channel("wechat") == "wechat"


def test_the_transcript_for_staff_masks_codes_too():
    events = [{"event": "user", "text": "验证码是 482913，电话 13812345678", "timestamp": 1.0},
              {"event": "bot", "text": "身份证 11010519491231002X", "metadata": staff_metadata("c**"), "timestamp": 2.0}]
    lines = transcript(events + [{"event": "user", "text": "110105********002X 138****5678 110105*****0021",
                                  "timestamp": 3.0}])
    assert lines[2]["text"] == "110105********002X 138****5678 110105*****0021"  # masked already: kept
    assert "482913" not in lines[0]["text"] and "13812345678" not in lines[0]["text"]
    assert "11010519491231002X" not in lines[1]["text"] and lines[1]["staff"] == "c**"
    assert set(lines[0]) == {"from", "text", "at", "id"}


async def _count_versions(state) -> None:
    key = "test-version:" + str(id(state))
    assert await state.version(key) == 0
    assert await state.bump(key) == 1
    assert await state.bump(key) == 2
    assert await state.version(key) == 2
    assert await state.version(key + "-other") == 0


async def test_version_counters_in_the_process():
    await _count_versions(MemoryState())


@pytest.mark.redis
async def test_version_counters_in_redis_are_shared():
    url = redis_url(WEB_DB)
    first, second = RedisState(url), RedisState(url)
    try:
        await first.redis.delete("helpdesk:web:shared-version")
        await _count_versions(first)
        await asyncio.gather(*(first.bump("shared-version") for _ in range(10)),
                             *(second.bump("shared-version") for _ in range(10)))
        assert await second.version("shared-version") == 20
        assert 0 < await first.redis.ttl("helpdesk:web:shared-version") <= 24 * 3600
    finally:
        await first.redis.delete("helpdesk:web:shared-version")
        await first.close()
        await second.close()


async def test_versions_read_as_zero_when_redis_is_down():
    state = RedisState("redis://127.0.0.1:9/0")
    try:
        assert await state.bump("x") == 0 and await state.version("x") == 0
    finally:
        await state.close()
