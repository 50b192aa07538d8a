"""bot/handoff/client.py (the web process's and WeChat's client of the
backend's hand-over routes) against the real card backend (SQLite, started
as the backend tests start it); what the backend cannot produce on demand
(a refused connection, a timeout, a 5xx, a reply that is not JSON) comes
from a tiny local server."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets

import httpx
import pytest

from bot.handoff.client import (
    HandoffClient,
    HandoffConflict,
    HandoffError,
    HandoffNotFound,
    HandoffRefused,
    HandoffUnavailable,
)
from bot.ops.processes import free_port
from tests.support.broken_server import BrokenServers
from tests.support.backend import Backend, sqlite_backend


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    with sqlite_backend(tmp_path_factory, "handoff-client-backend") as running:
        yield running


@pytest.fixture()
async def client(backend):
    async with HandoffClient(backend.url, backend.token) as c:
        yield c


def open_live(backend: Backend, sender: str, mode: str = "live") -> dict:
    """A ticket as the action server opens it (POST /v1/handoff-tickets)."""
    response = httpx.post(f"{backend.url}/v1/handoff-tickets", timeout=10,
                          headers={**backend.auth, "Idempotency-Key": secrets.token_hex(8)},
                          json={"summary": "想找人工", "channel": "wechat", "language": "zh", "conversation": sender,
                                "mode": mode})
    assert response.status_code == 201, response.text
    return response.json()


def sender() -> str:
    return f"client-test-{secrets.token_hex(6)}"


async def test_lookup_get_list_claim_message_release(client, backend, caplog):
    caplog.set_level(logging.DEBUG, logger="bot.handoff.client")
    conversation = sender()
    assert await client.lookup(conversation) is None
    opened = open_live(backend, conversation)
    held = await client.lookup(conversation)
    assert held["id"] == opened["id"] and held["status"] == "waiting" and held["mode"] == "live"
    assert held["position"] == opened["position"] and held["channel"] == "wechat"

    detail = await client.get(opened["id"])
    assert detail["conversation"] == conversation and detail["handoff"]["id"] == opened["id"]
    queue = await client.list()
    assert opened["id"] in {h["id"] for h in queue}
    assert all(h["status"] in ("waiting", "claimed") for h in queue)
    assert opened["id"] not in {h["id"] for h in await client.list("closed")}

    claimed = await client.claim(opened["id"], staff="wang", staff_name="王**")
    assert claimed["status"] == "claimed" and claimed["claimed_by"] == "wang" and claimed["staff_name"] == "王**"
    with pytest.raises(HandoffConflict) as conflict:
        await client.claim(opened["id"], staff="li")
    assert conflict.value.code == "already_claimed" and conflict.value.status == "claimed"
    assert conflict.value.http_status == 409 and isinstance(conflict.value, HandoffError)

    with pytest.raises(HandoffConflict) as conflict:
        await client.record_message(opened["id"], "li")
    assert conflict.value.code == "not_claimed_by_you"
    assert (await client.record_message(opened["id"], "wang"))["id"] == opened["id"]
    assert (await client.lookup(conversation))["status"] == "claimed"

    with pytest.raises(HandoffRefused) as refused:
        await client.release(opened["id"], "closed", staff="wang", outcome="回电 13812345678")
    assert refused.value.code == "personal_data_in_outcome" and refused.value.http_status == 422
    released = await client.release(opened["id"], "bot", by="staff", staff="wang")
    assert released["status"] == "closed" and released["outcome"] == "back_to_bot"
    with pytest.raises(HandoffConflict) as conflict:
        await client.release(opened["id"], "bot", by="citizen")
    assert conflict.value.code == "already_closed"
    assert await client.lookup(conversation) is None
    assert opened["id"] in {h["id"] for h in await client.list("closed")}

    with pytest.raises(HandoffNotFound):
        await client.get(999999999)
    with pytest.raises(HandoffNotFound):
        await client.claim(999999999, staff="wang")
    assert conversation not in caplog.text  # ids in paths, never the conversation


async def test_callback_and_expire(client, backend):
    conversation = sender()
    opened = open_live(backend, conversation)
    with pytest.raises(HandoffRefused) as refused:
        await client.callback(opened["id"], consent=True, phone="谢谢")
    assert refused.value.code == "invalid_phone"
    with pytest.raises(HandoffRefused):
        await client.callback(opened["id"], consent=True)
    recorded = await client.callback(opened["id"], consent=True, phone="13912345678")
    assert recorded["mode"] == "callback" and recorded["callback"] == {"consent": True, "phone": "139****5678"}
    assert await client.lookup(conversation) is None  # a call-back does not hold the chat

    waiting = sender()
    old = open_live(backend, waiting)
    two_days_ago = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(days=2)
    backend.execute("UPDATE handoff_tickets SET waiting_since = :moment WHERE id = :id", moment=two_days_ago, id=old["id"])
    mine = [e for e in await client.expire(24 * 3600) if e["id"] == old["id"]]
    assert len(mine) == 1 and mine[0]["waited_seconds"] >= 2 * 24 * 3600 - 5
    assert mine[0] == {"id": old["id"], "ticket_number": old["ticket_number"], "conversation": waiting,
                       "channel": "wechat", "language": "zh", "waited_seconds": mine[0]["waited_seconds"]}
    assert old["id"] not in {e["id"] for e in await client.expire(24 * 3600)}


async def test_two_clients_claiming_at_once_one_wins(backend):
    opened = open_live(backend, sender())
    clients = [HandoffClient(backend.url, backend.token) for _ in range(6)]
    try:
        results = await asyncio.gather(*(c.claim(opened["id"], staff=f"staff{i}") for i, c in enumerate(clients)),
                                       return_exceptions=True)
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    wins = [r for r in results if isinstance(r, dict)]
    assert len(wins) == 1 and wins[0]["status"] == "claimed"
    assert all(isinstance(r, HandoffConflict) and r.code == "already_claimed" for r in results if r not in wins)


async def test_wrong_token_is_refused(backend):
    async with HandoffClient(backend.url, "not-the-token") as client:
        with pytest.raises(HandoffRefused) as refused:
            await client.list()
    assert refused.value.code == "unauthorized" and refused.value.http_status == 401


async def test_refused_connection_is_unavailable():
    async with HandoffClient(f"http://127.0.0.1:{free_port()}", "token") as client:
        with pytest.raises(HandoffUnavailable) as error:
            await client.lookup("someone")
    assert error.value.code == "unreachable"


@pytest.fixture()
def tiny_server():
    servers = BrokenServers()
    yield servers.start
    servers.close()


async def test_timeout_is_unavailable(tiny_server):
    async with HandoffClient(tiny_server("sleep"), "token", timeout=0.5) as client:
        with pytest.raises(HandoffUnavailable) as error:
            await client.list()
    assert error.value.code == "timeout"


@pytest.mark.parametrize("mode,code", [("500", "server_error"), ("garbage", "bad_reply"), ("wrong-shape", "bad_reply")])
async def test_a_broken_reply_is_unavailable(tiny_server, mode, code):
    async with HandoffClient(tiny_server(mode), "token") as client:
        with pytest.raises(HandoffUnavailable) as error:
            await client.claim(7, staff="wang")
    assert error.value.code == code
