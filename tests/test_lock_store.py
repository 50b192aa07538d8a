"""bot/lock_store.py: conversation locks in the process, or in Redis shared
by replicas with every read-modify-write atomic (the machine's Redis)."""
import asyncio
import threading
import uuid

import pytest
import redis

from bot.lock_store import KEY_PREFIX, SharedLockStore
from tests.support.redis_server import LOCK_STORE_DB
from tests.support.redis_server import redis_url as machine_redis


@pytest.fixture()
def redis_url():
    """The machine's Redis; the tests' keys are deleted afterwards."""
    url = machine_redis(LOCK_STORE_DB)
    yield url
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(KEY_PREFIX + "test-*"):
        client.delete(key)


def test_without_redis_locks_live_in_the_process():
    store = SharedLockStore(redis_url="")
    assert store.redis is None
    first, second = store.issue_ticket("test-a"), store.issue_ticket("test-a")
    assert (first, second) == (0, 1)
    store.cleanup("test-a", first)
    assert store.get_lock("test-a").now_serving == 1
    store.cleanup("test-a", second)
    assert store.get_lock("test-a") is None


@pytest.mark.redis
def test_two_replicas_issuing_tickets_at_once_never_share_one(redis_url):
    """Eight threads over two stores (two replicas) issue 25 tickets each for one
    conversation: every ticket number is issued once."""
    replicas = [SharedLockStore(redis_url=redis_url), SharedLockStore(redis_url=redis_url)]
    conversation = f"test-{uuid.uuid4().hex}"
    issued, errors = [], []

    def issue(store):
        try:
            for _ in range(25):
                issued.append(store.issue_ticket(conversation, lock_lifetime=60))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=issue, args=(replicas[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(issued) == list(range(200))
    assert len(replicas[0].get_lock(conversation).tickets) == 200


@pytest.mark.redis
async def test_a_conversation_is_served_one_turn_at_a_time_across_replicas(redis_url):
    replicas = [SharedLockStore(redis_url=redis_url), SharedLockStore(redis_url=redis_url)]
    conversation = f"test-{uuid.uuid4().hex}"
    inside, overlaps, order = [0], [], []

    async def turn(i):
        async with replicas[i % 2].lock(conversation, lock_lifetime=30, wait_time_in_seconds=0.01):
            inside[0] += 1
            overlaps.append(inside[0])
            order.append(i)
            await asyncio.sleep(0.01)
            inside[0] -= 1

    await asyncio.gather(*(turn(i) for i in range(10)))
    assert max(overlaps) == 1 and sorted(order) == list(range(10))
    assert replicas[1].get_lock(conversation) is None  # the last one out deleted it


def test_redis_down_is_a_lock_error_not_a_hang():
    from rasa.core.lock_store import LockError

    store = SharedLockStore(redis_url="redis://127.0.0.1:9/0")  # nothing listens on port 9
    with pytest.raises(LockError):
        store.issue_ticket("test-down")


@pytest.mark.parametrize("shared", [False, pytest.param(True, marks=pytest.mark.redis)])
async def test_the_next_turn_after_a_turn_that_died_holding_the_lock_goes_on(request, shared):
    """A replica killed mid-turn leaves its ticket behind. The next message,
    sent at once, waits for that ticket to expire; its own ticket, issued a
    moment later, must not expire with it (Rasa's store then waits forever)."""
    store = SharedLockStore(redis_url=request.getfixturevalue("redis_url") if shared else "")
    conversation = f"test-{uuid.uuid4().hex}"
    store.issue_ticket(conversation, lock_lifetime=1.0)  # the dead turn's
    started = asyncio.get_running_loop().time()
    async with store.lock(conversation, lock_lifetime=1.0, wait_time_in_seconds=1.5):
        waited = asyncio.get_running_loop().time() - started
    assert 1.0 <= waited < 10
    assert store.get_lock(conversation) is None
