"""The staff's hand-over API over HTTP: a web process with the real card
backend and no Rasa (it is down: nothing can be announced in a chat), so
what is tested is the web process's own part: the queue, two claims at once
in one web process and on two (exactly one wins), who may write and
release, the audit log, the errors, the expiry sweep. The whole story with Rasa and the widget:
test_handoff_api.py."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
import subprocess
import sys
import time

import httpx
import pytest

from tests.support.backend import sqlite_backend
from tests.support.product import STAFF_PASSWORD
from tests.support.web import login, start_web

SECOND_STAFF = "counter2"


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    with sqlite_backend(tmp_path_factory, "handoff-backend") as running:
        yield running


@pytest.fixture(scope="module")
def web(backend, tmp_path_factory):
    directory = tmp_path_factory.mktemp("handoff-web")
    server = start_web(directory, f"sqlite:///{directory / 'staff.db'}", BACKEND_URL=backend.url,
                       BACKEND_SERVICE_TOKEN=backend.token, HANDOFF_WAIT_MINUTES="5")
    subprocess.run([sys.executable, "-m", "bot.web", "add-staff", SECOND_STAFF], check=True, timeout=60,
                   env={**server.env, "STAFF_PASSWORD": STAFF_PASSWORD}, capture_output=True)  # a second member of staff
    yield server
    server.group.stop()


def staff_client(web, username: str = "counter1") -> httpx.Client:
    client = web.client()
    response = login(client, username, STAFF_PASSWORD)
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


@pytest.fixture()
def staff(web):
    client = staff_client(web)
    yield client
    client.close()


@pytest.fixture()
def other_staff(web):
    client = staff_client(web, SECOND_STAFF)
    yield client
    client.close()


def open_handoff(backend, channel: str = "rest") -> int:
    """A live hand-over as action_human_handoff opens one: the backend's id."""
    conversation = ("web-" if channel == "rest" else "o") + secrets.token_urlsafe(16)
    with backend.client() as client:
        response = client.post("/v1/handoff-tickets", headers={"Idempotency-Key": secrets.token_hex(16)},
                               json={"summary": "用户咨询的主题：report_lost_card", "channel": channel,
                                     "language": "zh", "conversation": conversation, "mode": "live"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def audited(backend, action: str) -> list:
    """The details of the backend's audit rows of `action`, oldest first."""
    return [json.loads(entry.detail) for entry in backend.audit(action)]


def error_code(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["error"]["code"]


def test_the_queue_lists_waiting_ones_oldest_first_named_by_channel(web, backend, staff):
    first, second = open_handoff(backend), open_handoff(backend, "wechat")
    response = staff.get("/api/staff/handoffs")
    assert response.status_code == 200, response.text
    listed = {h["id"]: h for h in response.json()["handoffs"]}
    assert listed[first]["channel"] == "web" and listed[second]["channel"] == "wechat"
    order = [h["id"] for h in response.json()["handoffs"]]
    assert order.index(first) < order.index(second)
    for field in ("ticket_number", "status", "language", "waiting_since", "claimed_by", "position", "mode"):
        assert field in listed[first]
    assert listed[first]["status"] == "waiting" and listed[first]["position"] < listed[second]["position"]
    assert "conversation" not in response.text
    assert [h["id"] for h in staff.get("/api/staff/handoffs", params={"status": "claimed"}).json()["handoffs"]] \
        == [h["id"] for h in response.json()["handoffs"] if h["status"] == "claimed"]


def test_two_claims_at_once_in_one_web_process_exactly_one_wins(web, backend, staff, other_staff):
    ids = [open_handoff(backend) for _ in range(8)]

    async def race(handoff_id: int):
        clients = [httpx.AsyncClient(base_url=web.url, headers=dict(c.headers), cookies=c.cookies, timeout=60)
                   for c in (staff, other_staff)]
        try:
            return await asyncio.gather(*(c.post(f"/api/staff/handoffs/{handoff_id}/claim") for c in clients))
        finally:
            await asyncio.gather(*(c.aclose() for c in clients))

    winners = []
    for handoff_id in ids:
        answers = asyncio.run(race(handoff_id))
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        won = next(a for a in answers if a.status_code == 200).json()
        lost = next(a for a in answers if a.status_code == 409).json()
        assert lost["error"]["code"] == "already_claimed"
        assert won["handoff"]["status"] == "claimed" and won["announced"] is False  # Rasa is down
        winners.append(won["handoff"]["claimed_by"])
        assert staff.get(f"/api/staff/handoffs/{handoff_id}").status_code == 503  # no transcript without Rasa
    assert [d["staff"] for d in audited(backend, "handoff_claimed")][-len(ids):] == winners


def test_two_claims_at_once_on_two_web_processes_exactly_one_wins(web, backend, tmp_path):
    """Two web processes on one staff database and one backend (as behind a
    load balancer): the backend's conditional UPDATE decides."""
    second = start_web(tmp_path, web.db_url, BACKEND_URL=backend.url, BACKEND_SERVICE_TOKEN=backend.token)
    # Logged in after the second start (which resets counter1's password, ending its sessions).
    staff, other_staff = staff_client(web), staff_client(second, SECOND_STAFF)
    try:
        ids = [open_handoff(backend) for _ in range(6)]

        async def race(handoff_id: int):
            clients = [httpx.AsyncClient(base_url=url, headers=dict(c.headers), cookies=c.cookies, timeout=60)
                       for url, c in ((web.url, staff), (second.url, other_staff))]
            try:
                return await asyncio.gather(*(c.post(f"/api/staff/handoffs/{handoff_id}/claim") for c in clients))
            finally:
                await asyncio.gather(*(c.aclose() for c in clients))

        for handoff_id in ids:
            answers = asyncio.run(race(handoff_id))
            assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
            assert next(a for a in answers if a.status_code == 409).json()["error"]["code"] == "already_claimed"
    finally:
        staff.close()
        other_staff.close()
        second.group.stop()


def test_only_the_member_of_staff_holding_the_claim_writes_or_releases(web, backend, staff, other_staff):
    handoff_id = open_handoff(backend)
    assert error_code(staff.post(f"/api/staff/handoffs/{handoff_id}/messages", json={"text": "您好"}), 409) \
        == "not_claimed_by_you"  # claim it first
    assert staff.post(f"/api/staff/handoffs/{handoff_id}/claim").status_code == 200
    assert error_code(other_staff.post(f"/api/staff/handoffs/{handoff_id}/messages", json={"text": "我来"}), 409) \
        == "not_claimed_by_you"
    assert error_code(other_staff.post(f"/api/staff/handoffs/{handoff_id}/release", json={"to": "bot"}), 409) \
        == "not_claimed_by_you"
    # Rasa is down: the message cannot be delivered, and nothing is audited as sent.
    assert error_code(staff.post(f"/api/staff/handoffs/{handoff_id}/messages", json={"text": "您好"}), 503) \
        == "assistant_unavailable"
    number = ticket_number(staff, handoff_id)
    assert not [d for d in audited(backend, "handoff_message_sent") if d.get("ticket_number") == number]
    response = staff.post(f"/api/staff/handoffs/{handoff_id}/release", json={"to": "closed", "outcome": "已电话解答"})
    assert response.status_code == 200, response.text
    assert response.json()["handoff"]["status"] == "closed" and response.json()["handoff"]["outcome"] == "已电话解答"
    assert [d.get("staff") for d in audited(backend, "handoff_closed") if d.get("ticket_number") == number] \
        == ["counter1"]
    assert error_code(staff.post(f"/api/staff/handoffs/{handoff_id}/release", json={"to": "bot"}), 409) == "already_closed"
    # A waiting one anyone may close (a duplicate, a test).
    waiting = open_handoff(backend)
    assert other_staff.post(f"/api/staff/handoffs/{waiting}/release", json={"to": "closed"}).status_code == 200


def ticket_number(staff, handoff_id: int) -> str:
    listed = staff.get("/api/staff/handoffs", params={"status": "claimed"}).json()["handoffs"]
    listed += staff.get("/api/staff/handoffs", params={"status": "closed"}).json()["handoffs"]
    return next(h["ticket_number"] for h in listed if h["id"] == handoff_id)


def test_the_sweep_turns_a_hand_over_nobody_claimed_into_a_call_back(web, backend, staff):
    handoff_id = open_handoff(backend)
    long_ago = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(minutes=6)
    backend.execute("UPDATE handoff_tickets SET waiting_since = :t WHERE id = :id", t=long_ago, id=handoff_id)
    fresh = open_handoff(backend)
    until = time.monotonic() + 40  # the sweep runs every 15 s
    modes = {}
    while time.monotonic() < until:
        listed = {h["id"]: h for h in staff.get("/api/staff/handoffs", params={"status": "waiting"}).json()["handoffs"]}
        modes = {i: listed[i]["mode"] for i in (handoff_id, fresh)}
        if modes[handoff_id] == "callback":
            break
        time.sleep(1)
    assert modes == {handoff_id: "callback", fresh: "live"}
    assert any(d.get("waited_seconds", 0) >= 360 for d in audited(backend, "handoff_expired"))
    for i in (handoff_id, fresh):
        assert staff.post(f"/api/staff/handoffs/{i}/release", json={"to": "closed"}).status_code == 200


def test_what_the_staff_api_refuses(web, backend, staff):
    handoff_id = open_handoff(backend)
    assert error_code(staff.get("/api/staff/handoffs", params={"status": "all"}), 422) == "invalid_request"
    assert error_code(staff.get("/api/staff/handoffs", params={"status": "open", "x": "1"}), 422) == "invalid_request"
    assert error_code(staff.get("/api/staff/handoffs/99999999"), 404) == "handoff_not_found"
    assert error_code(staff.post("/api/staff/handoffs/x1/claim"), 404) == "handoff_not_found"
    assert error_code(staff.post(f"/api/staff/handoffs/{handoff_id}/release", json={"to": "away"}), 422) == "invalid_request"
    assert error_code(staff.post(f"/api/staff/handoffs/{handoff_id}/release",
                                 json={"to": "closed", "outcome": "已回电 13812345678"}), 422) == "personal_data_in_outcome"
    assert error_code(staff.post(f"/api/staff/handoffs/{handoff_id}/messages", json={"text": " "}), 422) == "invalid_request"
    assert error_code(staff.post(f"/api/staff/handoffs/{handoff_id}/messages", json={"text": "x" * 2001}), 413) == "too_long"
    with web.client(cookies=staff.cookies) as no_token:
        assert error_code(no_token.post(f"/api/staff/handoffs/{handoff_id}/claim"), 403) == "csrf_token_invalid"
    assert error_code(staff.post(f"/api/staff/handoffs/{handoff_id}/claim", headers={"Origin": "https://evil.example"}),
                      403) == "cross_origin"
    with web.client() as anonymous:
        assert error_code(anonymous.get("/api/staff/handoffs"), 401) == "login_required"
    assert staff.post(f"/api/staff/handoffs/{handoff_id}/release", json={"to": "closed"}).status_code == 200


def test_the_backend_down_is_a_clear_503(tmp_path):
    server = start_web(tmp_path, f"sqlite:///{tmp_path / 'staff.db'}")  # backend and Rasa at a closed port
    try:
        staff = staff_client(server)
        try:
            assert error_code(staff.get("/api/staff/handoffs"), 503) == "backend_unavailable"
            assert error_code(staff.post("/api/staff/handoffs/1/claim"), 503) == "backend_unavailable"
        finally:
            staff.close()
        with server.client() as chat:  # the widget is unaffected: no hand-over was ever seen
            session = chat.post("/api/chat/sessions").json()["session"]
            response = chat.post("/api/chat/messages", json={"message": "你好"}, headers={"X-Chat-Session": session})
            assert error_code(response, 503) == "assistant_unavailable"  # Rasa is down too
    finally:
        server.group.stop()
