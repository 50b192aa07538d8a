"""Fixtures of the WeChat channel tests."""
import uuid

import pytest
import redis

from bot.channels.wechat.state import MemoryState, RedisState
from tests.channels.fake_wechat_api import FakeWeChatAPI
from tests.channels.harness import APP_ID, APP_SECRET, REDIS_URL

@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"test:wechat:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()

@pytest.fixture(params=["memory", "redis"])
async def state(request, redis_prefix):
    store = MemoryState() if request.param == "memory" else RedisState(REDIS_URL, prefix=redis_prefix)
    yield store
    await store.close()

@pytest.fixture
def fake_api():
    with FakeWeChatAPI(APP_ID, APP_SECRET) as api:
        yield api
