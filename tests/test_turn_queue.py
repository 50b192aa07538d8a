"""bot/turn_queue.py: turns are served first come, first served, and a full
queue refuses a turn at once with Retry-After; bot/lock_store.py: a turn
waiting for its conversation's lock runs as soon as the turn before it ends.

The queue is driven by real turns in an event loop (a synthetic slow turn
blocks the loop as NLU does); the HTTP test runs a real sanic server with the
project's REST channel, the Rasa server's hardening and Rasa's Agent, whose
turn is a synthetic slow one, through a real client.
"""
from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from bot.core.service_auth import REST_SECRET_HEADER
from bot.lock_store import SharedLockStore
from bot.turn_queue import TurnQueue, TurnsQueueFull


def _slow_turn(seconds: float) -> None:
    """A turn's synchronous work (NLU, policies): the event loop waits for it."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def test_turns_are_served_in_the_order_they_came_under_a_slow_turn():
    queue, served = TurnQueue(concurrent=1), []

    async def turn(number: int, seconds: float) -> None:
        async with queue.turn():
            _slow_turn(seconds)
            served.append(number)

    first = asyncio.create_task(turn(0, 0.3))  # the slow one, running while the others arrive
    await asyncio.sleep(0)
    others = []
    for number in range(1, 30):
        others.append(asyncio.create_task(turn(number, 0.001)))
        await asyncio.sleep(0)
    await asyncio.gather(first, *others)
    assert served == list(range(30))


async def test_a_turn_waiting_for_an_action_server_lets_the_next_ones_run_in_order():
    queue, started = TurnQueue(concurrent=2), []

    async def turn(number: int, waits: bool) -> None:
        async with queue.turn():
            started.append(number)
            if waits:
                await asyncio.sleep(0.2)  # an action server call

    tasks = []
    for number in range(8):
        tasks.append(asyncio.create_task(turn(number, number == 0)))
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert started == list(range(8))
    assert queue.running == 0 and queue.waiting == 0


async def test_a_full_queue_refuses_at_once_with_a_retry_after():
    queue = TurnQueue(concurrent=1, max_waiting=3)
    release = asyncio.Event()

    async def turn() -> None:
        async with queue.turn():
            await release.wait()

    tasks = [asyncio.create_task(turn()) for _ in range(4)]  # one running, three waiting
    await asyncio.sleep(0)
    with pytest.raises(TurnsQueueFull) as refused:
        async with queue.turn():
            pass
    assert refused.value.retry_after >= 1
    release.set()
    await asyncio.gather(*tasks)
    async with queue.turn():  # room again
        pass


async def test_a_client_that_leaves_while_waiting_gives_its_place_up():
    queue, served = TurnQueue(concurrent=1), []
    release = asyncio.Event()

    async def turn(number: int) -> None:
        async with queue.turn():
            if number == 0:
                await release.wait()
            served.append(number)

    tasks = [asyncio.create_task(turn(n)) for n in range(4)]
    await asyncio.sleep(0)
    tasks[1].cancel()  # sanic cancels the handler of a client that disconnected
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert served == [0, 2, 3]
    assert queue.running == 0 and queue.waiting == 0


async def test_the_next_message_of_a_conversation_runs_when_the_turn_before_it_ends():
    """Rasa looks at a lock it waits for once a second; here a huge wait still ends
    when the holder finishes, so the turns run one after the other, in order."""
    store, order = SharedLockStore(redis_url=""), []

    async def turn(number: int) -> None:
        async with store.lock("conversation", wait_time_in_seconds=3600):
            order.append(number)
            await asyncio.sleep(0)

    await asyncio.wait_for(asyncio.gather(*(turn(n) for n in range(5))), timeout=60)
    assert order == list(range(5))
    assert store.get_lock("conversation") is None


# --- over HTTP: the REST channel on a Rasa server's hardened app ---------------------------------

class _SlowProcessor:
    """A turn that waits (as for the action server) before it answers: the synthetic slow turn."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def handle_message(self, message):
        await asyncio.sleep(self.seconds)
        await message.output_channel.send_text_message(message.sender_id, "answer")
        return message.output_channel.messages


async def test_a_full_queue_answers_503_with_retry_after_and_the_others_are_answered(monkeypatch):
    from rasa.core.agent import Agent
    from sanic import Sanic

    from bot import turn_queue
    from bot.channels.rest import RestInput
    from bot.privacy import log_redaction
    from bot.rasa_ext.rasa_server import harden
    from tests.support.sanic_server import serving

    monkeypatch.setattr(turn_queue, "_queue", TurnQueue(concurrent=1, max_waiting=2))
    # Our plug-ins (the lock store, the channel) turn on log redaction for the process; with sanic's
    # logging set up after it, pytest's own capture ends closed and every later test of the process
    # fails at setup. Redaction is tested on its own (tests/test_tracker_store.py, tests/redteam).
    monkeypatch.setattr(log_redaction, "install", lambda: None)
    agent = Agent(lock_store=SharedLockStore(redis_url=""))
    agent.processor = _SlowProcessor(0.5)
    app = harden(Sanic("turn_queue_test"))

    async def on_new_message(message):
        await agent.handle_message(message)

    app.blueprint(RestInput("secret").blueprint(on_new_message), url_prefix="/webhooks/rest")
    async with serving(app) as url:
        async with httpx.AsyncClient(timeout=60, headers={REST_SECRET_HEADER: "secret"}) as client:
            replies = await asyncio.gather(*(client.post(f"{url}/webhooks/rest/webhook",
                                                         json={"sender": f"c{n}", "message": "hi"})
                                             for n in range(10)))
    answered = [r for r in replies if r.status_code == 200]
    refused = [r for r in replies if r.status_code == 503]
    assert len(answered) == 3 and len(refused) == 7  # one running, two waiting
    assert all(r.json()[0]["text"] == "answer" for r in answered)
    for reply in refused:
        assert int(reply.headers["Retry-After"]) >= 1
        assert reply.json()["error"]["code"] == "unavailable"
