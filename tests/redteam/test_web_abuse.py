"""A script against the web process and the hand-off: it must not mint chat
sessions, turns or tickets without end, nor continue an idle or ended session.

Web processes alone (Rasa down: a turn that passes the limits is a 503) with
WEB_PROXIES_COUNT=1, so each test is its own client address (X-Forwarded-For);
two of them on one Redis show the limits and ended sessions are shared; the
one-ticket rule and the per-address hand-off limit run through the product.
"""
from __future__ import annotations

import re
import secrets
import sqlite3
import time

import httpx
import pytest

from bot.web.rate_limit import ADDRESS_TURNS, NEW_SESSIONS, SESSION_TURNS
from bot.web.sessions import SENDER_PREFIX, ChatSessions
from tests.support.redis_server import WEB_DB, redis_url
from tests.support.web import WEB_SECRET_KEY as SECRET, start_web


def an_address() -> str:
    """A client address of this test's own (buckets in Redis outlive a run)."""
    return "10.%d.%d.%d" % tuple(secrets.randbelow(250) + 1 for _ in range(3))


def client_of(server, address: str) -> httpx.Client:
    return server.client(headers={"X-Forwarded-For": address})


def new_session(client: httpx.Client) -> httpx.Response:
    return client.post("/api/chat/sessions")


def assert_429(response: httpx.Response, code: str) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == code
    assert int(response.headers["retry-after"]) >= 1


def refused_after(send, rule, passing_status: int) -> httpx.Response:
    """Sends until the first 429 and returns it. What passes before it is the
    rule's burst plus what its rate refilled meanwhile (the web process keeps
    real time: the bound comes from the time the requests took, however slow)."""
    started, passed = time.monotonic(), 0
    while True:
        response = send()
        if response.status_code == 429:
            break
        assert response.status_code == passing_status, response.text
        passed += 1
        assert passed <= 3 * rule.burst, f"no limit: {passed} passed"
    refilled = (time.monotonic() - started) * rule.per_minute / 60
    assert rule.burst <= passed <= rule.burst + refilled, (passed, refilled)
    return response


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    directory = tmp_path_factory.mktemp("abuse")
    server = start_web(directory, f"sqlite:///{directory / 'staff.db'}", WEB_PROXIES_COUNT="1")
    yield server
    server.group.stop()


@pytest.fixture(scope="module")
def replicas(tmp_path_factory):
    """Two web processes sharing one Redis, as in `make cluster`."""
    directory = tmp_path_factory.mktemp("replicas")
    servers = [start_web(directory, f"sqlite:///{directory / 'staff.db'}", WEB_PROXIES_COUNT="1",
                         REDIS_URL=redis_url(WEB_DB)) for _ in range(2)]
    yield servers
    for server in servers:
        server.group.stop()


def test_one_address_cannot_mint_sessions_without_end(web):
    address = an_address()
    with client_of(web, address) as client:
        assert_429(refused_after(lambda: new_session(client), NEW_SESSIONS, 201), "too_many_sessions")
    with client_of(web, an_address()) as elsewhere:  # another address is not affected
        assert new_session(elsewhere).status_code == 201


def test_one_session_cannot_send_faster_than_a_person(web):
    with client_of(web, an_address()) as client:
        client.headers["X-Chat-Session"] = new_session(client).json()["session"]
        send = lambda: client.post("/api/chat/messages", json={"message": "补卡"})  # noqa: E731
        assert_429(refused_after(send, SESSION_TURNS, 503), "too_many_messages")  # 503: Rasa is down


def test_one_address_cannot_spread_turns_over_many_sessions(web):
    """Each session stays under its own limit; the address's limit stops the whole."""
    passed, stopped = 0, None
    with client_of(web, an_address()) as client:
        while stopped is None and passed <= 2 * ADDRESS_TURNS.burst:
            session = new_session(client).json()["session"]
            for _ in range(SESSION_TURNS.burst - 1):
                response = client.post("/api/chat/messages", json={"message": "补卡"},
                                       headers={"X-Chat-Session": session})
                if response.status_code == 429:
                    stopped = response
                    break
                assert response.status_code == 503
                passed += 1
    assert stopped is not None, "no limit per address"
    assert_429(stopped, "too_many_messages")
    assert passed >= ADDRESS_TURNS.burst


def test_an_idle_session_is_over(web):
    """The time in the id is its last use; a clock of ours makes one 31 minutes old."""
    clock = [1_900_000_000.0]
    sessions = ChatSessions(SECRET, 30 * 60, clock=lambda: clock[0])
    session = sessions.issue()
    clock[0] += 29 * 60
    assert sessions.sender(session) is not None
    refreshed = sessions.issue(sessions.check(session)[0])  # what every answer carries
    clock[0] += 29 * 60
    assert sessions.sender(session) is None and sessions.check(session)[1] == "session_expired"
    assert sessions.sender(refreshed) == SENDER_PREFIX + session.split(".")[0]  # the same conversation, alive
    # Over HTTP: a genuine id last used 31 minutes ago (by the real clock) is refused.
    old = ChatSessions(SECRET, 30 * 60, clock=lambda: time.time() - 31 * 60).issue()
    with client_of(web, an_address()) as client:
        response = client.get("/api/chat/history", headers={"X-Chat-Session": old})
        assert response.status_code == 403 and response.json()["error"]["code"] == "session_expired"
        fresh = ChatSessions(SECRET, 30 * 60, clock=lambda: time.time() - 29 * 60).issue()
        assert client.get("/api/chat/history", headers={"X-Chat-Session": fresh}).status_code == 503  # Rasa down


@pytest.mark.redis
def test_limits_and_ended_sessions_are_shared_by_replicas_through_redis(replicas):
    first, second = replicas
    address = an_address()
    with client_of(first, address) as a, client_of(second, address) as b:
        half = NEW_SESSIONS.burst // 2
        assert [new_session(a).status_code for _ in range(half)] == [201] * half
        sessions = [new_session(b) for _ in range(NEW_SESSIONS.burst - half)]
        assert [r.status_code for r in sessions] == [201] * (NEW_SESSIONS.burst - half)
        assert_429(new_session(a), "too_many_sessions")
        assert_429(new_session(b), "too_many_sessions")
        # "New chat" on one replica ends the session on the other too.
        session = {"X-Chat-Session": sessions[0].json()["session"]}
        assert b.get("/api/chat/history", headers=session).status_code == 503  # valid (Rasa down)
        assert a.delete("/api/chat/sessions", headers=session).json() == {"ended": True}
        response = b.get("/api/chat/history", headers=session)
        assert response.status_code == 403 and response.json()["error"]["code"] == "session_ended"


# --- tickets through the product -------------------------------------------------------------------

def open_tickets(product) -> list:
    response = httpx.get(f"{product.backend_url}/v1/handoff-tickets", params={"status": "open", "limit": 200},
                         headers={"Authorization": f"Bearer {product.env['BACKEND_SERVICE_TOKEN']}"}, timeout=10)
    response.raise_for_status()
    return response.json()["tickets"]


@pytest.mark.product
def test_a_second_handoff_in_a_conversation_opens_nothing(product):
    before = len(open_tickets(product))
    with httpx.Client(base_url=product.web_url, timeout=60) as chat:
        chat.headers["X-Chat-Session"] = chat.post("/api/chat/sessions").json()["session"]
        first = chat.post("/api/chat/messages", json={"message": "/human_handoff"}).json()
        number = re.search(r"HD-\d{8}-\d{4}", first["messages"][0]["text"]).group(0)
        assert "已为您转接人工客服" in first["messages"][0]["text"] and first["handoff"]["status"] == "waiting"
        # The conversation is held now: asking again goes to the (future) member of staff, not to a new ticket.
        again = chat.post("/api/chat/messages", json={"message": "/human_handoff"}).json()
        assert again["messages"] == [] and again["handoff"]["id"] == first["handoff"]["id"]
    assert len(open_tickets(product)) == before + 1
    # The ticket knows its conversation and the client's address only as keyed hashes.
    path = product.env["BACKEND_DB_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        conversation, client = db.execute(
            "SELECT conversation_ref, client_ref FROM handoff_tickets WHERE ticket_number = ?", (number,)).fetchone()
    assert re.fullmatch(r"[0-9a-f]{64}", conversation) and re.fullmatch(r"[0-9a-f]{64}", client)
    assert "127.0.0.1" not in conversation + client


@pytest.mark.product
def test_one_client_opens_a_few_tickets_an_hour(product):
    """The backend counts tickets per client reference (what the web process
    derives from the address): past the hourly share, 429 and nothing opened."""
    from bot.backend.service import TICKETS_PER_CLIENT_PER_HOUR

    client = "client-" + secrets.token_hex(8)
    headers = {"Authorization": f"Bearer {product.env['BACKEND_SERVICE_TOKEN']}"}
    statuses = []
    for number in range(TICKETS_PER_CLIENT_PER_HOUR + 1):
        response = httpx.post(
            f"{product.backend_url}/v1/handoff-tickets", timeout=10,
            headers={**headers, "Idempotency-Key": secrets.token_hex(16)},
            json={"summary": "用户咨询的主题：-", "conversation": f"{client}-{number}", "client": client})
        statuses.append(response.status_code)
    assert statuses == [201] * TICKETS_PER_CLIENT_PER_HOUR + [429]
    assert response.json()["error"]["code"] == "too_many_tickets"
