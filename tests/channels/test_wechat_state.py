"""De-duplication, options, parts and the access token: in memory and in Redis."""
import asyncio

import pytest
import redis
import redis.asyncio

from bot.channels.wechat.rendering import Option
from bot.channels.wechat.state import (
    HANDED_OFF, HANDOFF_TTL_SECONDS, NONCE_NEW, NONCE_OTHER_MESSAGE, NONCE_SAME_MESSAGE, PENDING, REPLIED, MemoryState, Outcome,
    RedisState, hashed, state_for,
)
from tests.support.redis_server import CHANNEL_DB, redis_url
from tests.support.wait import wait_until_async


async def test_only_the_first_claim_of_a_message_wins(state):
    results = await asyncio.gather(*(state.claim("msg:1") for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    assert await state.outcome("msg:1") == Outcome(PENDING)
    assert await state.claim("msg:2")


async def test_outcomes_and_waiting(state):
    await state.claim("msg:1")
    assert await state.wait_outcome("msg:1", 0.2) == Outcome(PENDING)  # times out while pending

    async def finish_later():
        await asyncio.sleep(0.2)
        await state.set_outcome("msg:1", Outcome(REPLIED, "需要激活"))

    waiter = asyncio.ensure_future(state.wait_outcome("msg:1", 5))
    await finish_later()
    assert await waiter == Outcome(REPLIED, "需要激活")
    await state.set_outcome("msg:1", Outcome(HANDED_OFF))
    assert await state.wait_outcome("msg:1", 5) == Outcome(HANDED_OFF)
    assert await state.outcome("never-seen") is None
    assert await state.claim("msg:1") is False  # still remembered


async def test_options_per_user(state):
    options = [Option("补办后要激活吗", "/faq_activate"), Option("都不是", "/out_of_scope")]
    await state.set_options("oAlice", options)
    assert await state.options("oAlice") == options
    assert await state.options("oBob") == []
    await state.set_options("oAlice", [])
    assert await state.options("oAlice") == []


async def test_parts_come_one_by_one(state):
    await state.set_parts("oAlice", ["second", "third"])
    await state.set_parts("oBob", ["other"])
    assert await state.next_part("oAlice") == "second"
    assert await state.next_part("oAlice") == "third"
    assert await state.next_part("oAlice") is None
    await state.set_parts("oBob", [])  # a new answer without parts drops the old ones
    assert await state.next_part("oBob") is None


async def test_access_token(state):
    assert await state.access_token("wx1") is None
    await state.set_access_token("wx1", "token-1", ttl=60)
    assert await state.access_token("wx1") == "token-1"
    await state.forget_access_token("wx1")
    assert await state.access_token("wx1") is None


async def test_a_staff_message_forgets_the_options_and_parts(state):
    await state.set_options("oAlice", [Option("a", "/a")])
    await state.set_parts("oAlice", ["second"])
    await state.set_options("oBob", [Option("b", "/b")])
    await state.forget_options_and_parts("oAlice")
    assert (await state.options("oAlice"), await state.next_part("oAlice")) == ([], None)
    assert await state.options("oBob") == [Option("b", "/b")]


async def test_the_handoff_marker(state):
    assert not await state.handoff_marked("oAlice")
    await state.mark_handoff("oAlice")
    assert await state.handoff_marked("oAlice") and not await state.handoff_marked("oBob")
    await state.forget_handoff("oAlice")
    assert not await state.handoff_marked("oAlice")


async def test_the_handoff_marker_lasts_a_day():
    now = [0.0]
    store = MemoryState(clock=lambda: now[0])
    await store.mark_handoff("oAlice")
    now[0] += HANDOFF_TTL_SECONDS - 1
    assert await store.handoff_marked("oAlice")
    now[0] += 2
    assert not await store.handoff_marked("oAlice")


@pytest.mark.redis
async def test_redis_keys_are_prefixed_and_hold_no_openid(redis_prefix):
    store = RedisState(redis_url(CHANNEL_DB), prefix=redis_prefix)
    await store.set_options("oAliceOpenID", [Option("a", "/a")])
    await store.set_parts("oAliceOpenID", ["part"])
    await store.claim("event:oAliceOpenID:123:subscribe")
    await store.mark_handoff("oAliceOpenID")
    await store.close()
    client = redis.Redis.from_url(redis_url(CHANNEL_DB), decode_responses=True)
    keys = sorted(client.scan_iter(match=redis_prefix + "*"))
    client.close()
    assert keys == sorted([
        redis_prefix + "options:" + hashed("oAliceOpenID"),
        redis_prefix + "parts:" + hashed("oAliceOpenID"),
        redis_prefix + "msg:" + hashed("event:oAliceOpenID:123:subscribe"),
        redis_prefix + "handoff:" + hashed("oAliceOpenID"),
    ])
    assert not any("oAlice" in key for key in keys)


@pytest.mark.redis
async def test_redis_entries_expire(redis_prefix):
    """Redis keeps the time itself: the lifetime given is the key's, to the millisecond,
    and a key past it is gone (waited for, not slept for)."""
    store = RedisState(redis_url(CHANNEL_DB), prefix=redis_prefix)
    client = redis.asyncio.Redis.from_url(redis_url(CHANNEL_DB))
    try:
        await store.set_access_token("wx1", "token", ttl=60)
        assert await store.access_token("wx1") == "token"
        [key] = [k async for k in client.scan_iter(match=redis_prefix + "*")]
        assert 50_000 < await client.pttl(key) <= 60_000  # seconds given, milliseconds kept
        await store.set_access_token("wx1", "token", ttl=0.3)
        await wait_until_async(lambda: _gone(client, key), "the expired key to be gone")
        assert await store.access_token("wx1") is None
    finally:
        await client.close()
        await store.close()


async def _gone(client, key) -> bool:
    return not await client.exists(key)


async def test_memory_entries_expire_and_are_bounded():
    now = [1000.0]
    store = MemoryState(max_entries=3, clock=lambda: now[0])
    assert await store.claim("a")
    now[0] += 301  # past the message TTL
    assert await store.claim("a")  # forgotten: a new claim wins
    for key in ("b", "c", "d"):
        await store.claim(key)
    assert len(store._entries) == 3  # "a" was the oldest and went
    assert await store.claim("a")


def test_state_for_chooses_redis_only_with_a_url():
    assert isinstance(state_for(""), MemoryState)
    assert isinstance(state_for("redis://127.0.0.1:1/0"), RedisState)  # connects at first use only


async def test_a_nonce_is_bound_to_the_first_message_it_signed(state):
    assert await state.use_nonce("1700000000:42", "digest-a", 300) == NONCE_NEW
    assert await state.use_nonce("1700000000:42", "digest-a", 300) == NONCE_SAME_MESSAGE
    assert await state.use_nonce("1700000000:42", "digest-b", 300) == NONCE_OTHER_MESSAGE
    assert await state.use_nonce("1700000001:42", "digest-b", 300) == NONCE_NEW  # another timestamp


async def test_a_nonce_is_forgotten_when_its_window_ends():
    now = [1000.0]
    state = MemoryState(clock=lambda: now[0])
    assert await state.use_nonce("t:n", "a", 10) == NONCE_NEW
    now[0] += 9
    assert await state.use_nonce("t:n", "b", 10) == NONCE_OTHER_MESSAGE
    now[0] += 2
    assert await state.use_nonce("t:n", "b", 10) == NONCE_NEW
