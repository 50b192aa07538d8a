"""Fixtures of the WeChat channel tests."""
import uuid

import pytest
import redis

from bot.channels.wechat.state import MemoryState, RedisState
from tests.support.fake_wechat_api import FakeWeChatAPI
from tests.support.redis_server import CHANNEL_DB, redis_url
from tests.support.wechat_channel import APP_ID, APP_SECRET


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the machine's Redis; its keys are deleted afterwards."""
    url = redis_url(CHANNEL_DB)
    prefix = f"test:wechat:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def state(request):
    """The channel's state in the process, and in Redis (marked `redis`)."""
    if request.param == "memory":
        store = MemoryState()
    else:
        store = RedisState(redis_url(CHANNEL_DB), prefix=request.getfixturevalue("redis_prefix"))
    yield store
    await store.close()


@pytest.fixture
def fake_api():
    with FakeWeChatAPI(APP_ID, APP_SECRET) as api:
        yield api
