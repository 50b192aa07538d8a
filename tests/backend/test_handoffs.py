"""Live hand-over at the card backend (/v1/handoffs, issue 12), against the
real server on SQLite and on PostgreSQL (conftest.py): the queue and its
positions, exactly one winner of concurrent claims and of concurrent expiry
sweeps, release and close (the call-back phone deleted), the staff message
audit, the call-back, the conversation and the phone never stored in clear.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List

import httpx
import pytest
from sqlalchemy import select

from bot.backend.models import HandoffTicket
from bot.backend.sealing import unseal
from tests.support import personal_values
from tests.support.backend import Backend, error_of, new_phone

LONG_AGO = dt.timedelta(days=2)
EXPIRE_AFTER = 24 * 3600  # tickets of other tests (made now) never expire in these tests' sweeps


def conversation() -> str:
    return f"handoff-test-{secrets.token_hex(8)}"


def open_ticket(client: httpx.Client, sender: str = None, mode: str = None, summary: str = "想找人工客服",
                channel: str = "web", status: int = 201, **headers: str) -> Dict:
    body = {"summary": summary, "channel": channel, "language": "zh"}
    if sender:
        body["conversation"] = sender
    if mode:
        body["mode"] = mode
    response = client.post("/v1/handoff-tickets", json=body,
                           headers={"Idempotency-Key": f"handoff-{secrets.token_hex(8)}", **headers})
    assert response.status_code == status, response.text
    return response.json()


def view(client: httpx.Client, handoff_id: int) -> Dict:
    response = client.get(f"/v1/handoffs/{handoff_id}")
    assert response.status_code == 200, response.text
    return response.json()["handoff"]


def stored(backend: Backend, handoff_id: int) -> HandoffTicket:
    with backend.db.read() as session:
        return session.execute(select(HandoffTicket).where(HandoffTicket.id == handoff_id)).scalar_one()


def backdate(backend: Backend, handoff_id: int, by: dt.timedelta = LONG_AGO) -> None:
    moment = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - by
    backend.execute("UPDATE handoff_tickets SET waiting_since = :moment WHERE id = :id", moment=moment, id=handoff_id)


def audited(backend: Backend, action: str, ticket_number: str) -> List[Dict]:
    return [json.loads(a.detail) | {"_channel": a.channel} for a in backend.audit(action)
            if json.loads(a.detail).get("ticket_number") == ticket_number]


# --- opening, the queue --------------------------------------------------------------------------

def test_a_live_ticket_joins_the_queue_and_keeps_its_conversation_sealed(backend, client):
    sender = conversation()
    first = open_ticket(client, sender)
    assert first["mode"] == "live" and first["status"] == "open" and isinstance(first["id"], int)
    assert isinstance(first["position"], int) and first["position"] >= 1
    second = open_ticket(client, conversation())
    assert second["position"] == first["position"] + 1

    again = open_ticket(client, sender, status=200)  # the conversation's open ticket, none opened
    assert again["already_open"] is True and again["id"] == first["id"] and again["position"] == first["position"]

    row = stored(backend, first["id"])
    assert row.status == "waiting" and row.waiting_since is not None
    assert sender not in (row.conversation_sealed or "") and sender not in (row.conversation_ref or "")
    assert unseal(backend.id_hash_key, row.conversation_sealed) == sender
    detail = client.get(f"/v1/handoffs/{first['id']}").json()
    assert detail["conversation"] == sender
    assert detail["handoff"]["position"] == first["position"] and detail["handoff"]["status"] == "waiting"
    assert sender not in backend.log_path.read_text(errors="replace")


def test_the_view(backend, client):
    person = backend.person("active")
    token = backend.verify(person)
    opened = open_ticket(client, conversation(), **{"X-Verification-Token": token})
    shown = view(client, opened["id"])
    assert set(shown) == {"id", "ticket_number", "status", "mode", "channel", "language", "created_at", "waiting_since",
                          "claimed_by", "staff_name", "claimed_at", "closed_at", "outcome", "position", "summary",
                          "holder", "verified", "callback"}
    assert shown["verified"] is True and shown["holder"]["id_number_masked"] == person.id_number[:6] + "********" + person.id_number[-4:]
    assert shown["callback"] == {"consent": None, "phone": None}
    assert shown["waiting_since"].endswith("Z") and shown["channel"] == "web" and shown["language"] == "zh"
    anonymous = view(client, open_ticket(client, conversation())["id"])
    assert anonymous["verified"] is False and anonymous["holder"] is None


def test_the_queue_lists_the_oldest_waiting_first_then_the_claimed(backend, client):
    ids = [open_ticket(client, conversation())["id"] for _ in range(3)]
    assert client.post(f"/v1/handoffs/{ids[0]}/claim", json={"staff": "wang"}).status_code == 200
    listed = client.get("/v1/handoffs", params={"limit": 200}).json()["handoffs"]
    statuses = [h["status"] for h in listed]
    assert set(statuses) <= {"waiting", "claimed"}
    assert statuses == sorted(statuses, key=lambda s: s != "waiting")  # waiting ones, then claimed ones
    waiting = [h for h in listed if h["status"] == "waiting"]
    assert [h["waiting_since"] for h in waiting] == sorted(h["waiting_since"] for h in waiting)
    live = [h["position"] for h in waiting if h["mode"] == "live"]
    assert live == list(range(1, len(live) + 1))
    by_id = {h["id"]: h for h in listed}
    assert by_id[ids[0]]["status"] == "claimed" and by_id[ids[0]]["position"] is None
    assert by_id[ids[2]]["position"] == by_id[ids[1]]["position"] + 1
    assert view(client, ids[1])["position"] == by_id[ids[1]]["position"]

    only_waiting = client.get("/v1/handoffs", params={"status": "waiting", "limit": 200}).json()["handoffs"]
    assert {h["status"] for h in only_waiting} == {"waiting"} and ids[0] not in {h["id"] for h in only_waiting}
    claimed = client.get("/v1/handoffs", params={"status": "claimed", "limit": 200}).json()["handoffs"]
    assert ids[0] in {h["id"] for h in claimed} and {h["status"] for h in claimed} == {"claimed"}

    assert client.post(f"/v1/handoffs/{ids[1]}/release", json={"to": "closed", "staff": "wang"}).status_code == 200
    closed = client.get("/v1/handoffs", params={"status": "closed"}).json()["handoffs"]
    assert closed[0]["id"] == ids[1]  # the newest closed first
    assert view(client, ids[2])["position"] == by_id[ids[2]]["position"] - 1  # one fewer ahead


@pytest.mark.parametrize("params", [{"status": "open,closed"}, {"status": "held"}, {"limit": "0"}, {"limit": "201"},
                                    {"limit": "x"}])
def test_list_parameters(client, params):
    error_of(client.get("/v1/handoffs", params=params), 422, "invalid_request")


@pytest.mark.parametrize("handoff_id", ["0", "abc", "1234567890", "-1", "1.5"])
def test_a_malformed_id_is_not_found(client, handoff_id):
    error_of(client.get(f"/v1/handoffs/{handoff_id}"), 404, "handoff_not_found")
    error_of(client.post(f"/v1/handoffs/{handoff_id}/claim", json={"staff": "wang"}), 404, "handoff_not_found")


def test_an_unknown_id_is_not_found(client):
    error_of(client.get("/v1/handoffs/999999999"), 404, "handoff_not_found")
    for action, body in (("claim", {"staff": "wang"}), ("release", {"to": "bot"}), ("messages", {"staff": "wang"}),
                         ("callback", {"consent": False})):
        error_of(client.post(f"/v1/handoffs/999999999/{action}", json=body), 404, "handoff_not_found")


# --- lookup --------------------------------------------------------------------------------------

def test_lookup_finds_the_held_conversation_only(backend, client):
    sender = conversation()
    error_of(client.post("/v1/handoffs/lookup", json={"conversation": sender}), 404, "handoff_not_found")
    opened = open_ticket(client, sender)
    held = client.post("/v1/handoffs/lookup", json={"conversation": sender}).json()["handoff"]
    assert held["id"] == opened["id"] and held["status"] == "waiting" and held["position"] == opened["position"]
    client.post(f"/v1/handoffs/{opened['id']}/claim", json={"staff": "wang", "staff_name": "王**"})
    held = client.post("/v1/handoffs/lookup", json={"conversation": sender}).json()["handoff"]
    assert held["status"] == "claimed" and held["claimed_by"] == "wang" and held["staff_name"] == "王**"
    client.post(f"/v1/handoffs/{opened['id']}/release", json={"to": "bot", "by": "citizen"})
    error_of(client.post("/v1/handoffs/lookup", json={"conversation": sender}), 404, "handoff_not_found")

    callback_sender = conversation()  # a call-back ticket does not hold the chat: the bot answers
    open_ticket(client, callback_sender, mode="callback")
    error_of(client.post("/v1/handoffs/lookup", json={"conversation": callback_sender}), 404, "handoff_not_found")
    error_of(client.post("/v1/handoffs/lookup", json={}), 422, "invalid_request")


# --- claim ---------------------------------------------------------------------------------------

def test_claim_once(backend, client):
    opened = open_ticket(client, conversation())
    claimed = client.post(f"/v1/handoffs/{opened['id']}/claim", json={"staff": "wang", "staff_name": "王**"})
    assert claimed.status_code == 200, claimed.text
    handoff = claimed.json()["handoff"]
    assert handoff["status"] == "claimed" and handoff["claimed_by"] == "wang" and handoff["staff_name"] == "王**"
    assert handoff["claimed_at"].endswith("Z") and handoff["position"] is None
    assert error_of(client.post(f"/v1/handoffs/{opened['id']}/claim", json={"staff": "li"}),
                    409, "already_claimed")["status"] == "claimed"
    assert view(client, opened["id"])["claimed_by"] == "wang"
    entries = audited(backend, "handoff_claimed", opened["ticket_number"])
    assert len(entries) == 1 and entries[0]["staff"] == "wang" and entries[0]["_channel"] == "staff"

    client.post(f"/v1/handoffs/{opened['id']}/release", json={"to": "closed", "staff": "wang"})
    assert error_of(client.post(f"/v1/handoffs/{opened['id']}/claim", json={"staff": "li"}),
                    409, "already_claimed")["status"] == "closed"


@pytest.mark.parametrize("body", [{}, {"staff": ""}, {"staff": "Wang Wei"}, {"staff": "wang", "staff_name": ""},
                                  {"staff": "wang", "extra": 1}, {"staff": 7}])
def test_claim_needs_a_staff_username(client, body):
    opened = open_ticket(client, conversation())
    error_of(client.post(f"/v1/handoffs/{opened['id']}/claim", json=body), 422, "invalid_request")
    assert view(client, opened["id"])["status"] == "waiting"


def test_concurrent_claims_have_exactly_one_winner(backend):
    """Staff on several web processes claim the same tickets at once: for each
    ticket one 200, every other 409 already_claimed (also on PostgreSQL)."""
    claimers = 8
    with backend.client() as client:
        ids = [open_ticket(client, conversation())["id"] for _ in range(6)]
    barrier = threading.Barrier(claimers)

    def claim_all(n: int) -> Dict[int, int]:
        with backend.client() as client:  # a connection of its own, like another process
            barrier.wait()
            return {handoff_id: client.post(f"/v1/handoffs/{handoff_id}/claim", json={"staff": f"staff{n}"}).status_code
                    for handoff_id in ids}

    with ThreadPoolExecutor(claimers) as pool:
        results = list(pool.map(claim_all, range(claimers)))
    with backend.client() as client:
        for handoff_id in ids:
            statuses = sorted(result[handoff_id] for result in results)
            assert statuses == [200] + [409] * (claimers - 1), (handoff_id, statuses)
            winner = next(n for n, result in enumerate(results) if result[handoff_id] == 200)
            shown = view(client, handoff_id)
            assert shown["status"] == "claimed" and shown["claimed_by"] == f"staff{winner}"
            number = shown["ticket_number"]
            assert [e["staff"] for e in audited(backend, "handoff_claimed", number)] == [f"staff{winner}"]


async def test_concurrent_async_claims_have_exactly_one_winner(backend):
    import asyncio

    with backend.client() as client:
        handoff_id = open_ticket(client, conversation())["id"]
    clients = [httpx.AsyncClient(base_url=backend.url, headers=backend.auth, timeout=30) for _ in range(10)]
    try:
        responses = await asyncio.gather(*(c.post(f"/v1/handoffs/{handoff_id}/claim", json={"staff": f"s{i}"})
                                           for i, c in enumerate(clients)))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    assert sorted(r.status_code for r in responses) == [200] + [409] * 9
    assert all(r.json()["error"]["code"] == "already_claimed" for r in responses if r.status_code == 409)


# --- release, close ------------------------------------------------------------------------------

def test_the_citizen_leaves_the_queue(backend, client):
    opened = open_ticket(client, conversation())
    released = client.post(f"/v1/handoffs/{opened['id']}/release", json={"to": "bot", "by": "citizen"})
    assert released.status_code == 200, released.text
    handoff = released.json()["handoff"]
    assert handoff["status"] == "closed" and handoff["outcome"] == "back_to_bot" and handoff["closed_at"].endswith("Z")
    assert error_of(client.post(f"/v1/handoffs/{opened['id']}/release", json={"to": "bot", "by": "citizen"}),
                    409, "already_closed")["status"] == "closed"
    entries = audited(backend, "handoff_released", opened["ticket_number"])
    assert len(entries) == 1 and entries[0]["by"] == "citizen" and entries[0]["_channel"] == "web"
    assert "staff" not in entries[0]


def test_staff_hand_back_and_close_with_an_outcome(backend, client):
    back = open_ticket(client, conversation())
    client.post(f"/v1/handoffs/{back['id']}/claim", json={"staff": "wang"})
    handed = client.post(f"/v1/handoffs/{back['id']}/release", json={"to": "bot", "by": "staff", "staff": "wang"})
    assert handed.json()["handoff"]["outcome"] == "back_to_bot"
    assert audited(backend, "handoff_released", back["ticket_number"])[0]["staff"] == "wang"

    closed = open_ticket(client, conversation())
    client.post(f"/v1/handoffs/{closed['id']}/claim", json={"staff": "wang"})
    error_of(client.post(f"/v1/handoffs/{closed['id']}/release",
                         json={"to": "closed", "staff": "wang", "outcome": "已回电 13812345678"}),
             422, "personal_data_in_outcome")
    assert view(client, closed["id"])["status"] == "claimed"  # refused: nothing changed
    done = client.post(f"/v1/handoffs/{closed['id']}/release", json={"to": "closed", "staff": "wang", "outcome": "已解答补卡问题"})
    assert done.json()["handoff"]["outcome"] == "已解答补卡问题"
    entry = audited(backend, "handoff_closed", closed["ticket_number"])[0]
    assert entry["staff"] == "wang" and entry["outcome"] == "已解答补卡问题" and entry["_channel"] == "staff"
    default = open_ticket(client, conversation())
    assert client.post(f"/v1/handoffs/{default['id']}/release", json={"to": "closed"}).json()["handoff"]["outcome"] == "resolved"


@pytest.mark.parametrize("body", [{}, {"to": "nowhere"}, {"to": "bot", "by": "robot"}, {"to": "closed", "outcome": ""},
                                  {"to": "closed", "outcome": "x" * 201}])
def test_release_needs_a_valid_body(client, body):
    opened = open_ticket(client, conversation())
    error_of(client.post(f"/v1/handoffs/{opened['id']}/release", json=body), 422, "invalid_request")


def test_closing_deletes_the_callback_phone(backend, client):
    phone = personal_values.typed(new_phone(), "call-back phone number")
    backend.secrets_seen.append(phone)
    opened = open_ticket(client, conversation(), mode="callback")
    client.post(f"/v1/handoffs/{opened['id']}/callback", json={"consent": True, "phone": phone})
    row = stored(backend, opened["id"])
    assert row.callback_phone_masked == phone[:3] + "****" + phone[-4:] and row.callback_phone_sealed
    client.post(f"/v1/handoffs/{opened['id']}/claim", json={"staff": "wang"})
    closed = client.post(f"/v1/handoffs/{opened['id']}/release", json={"to": "closed", "staff": "wang", "outcome": "已回电"})
    assert closed.json()["handoff"]["callback"] == {"consent": True, "phone": None}
    row = stored(backend, opened["id"])
    assert row.callback_phone_sealed is None and row.callback_phone_masked is None and row.callback_consent is True

    legacy = open_ticket(client, conversation(), mode="callback")  # the old close route deletes it too
    client.post(f"/v1/handoffs/{legacy['id']}/callback", json={"consent": True, "phone": phone})
    response = client.post(f"/v1/handoff-tickets/{legacy['ticket_number']}/close",
                           headers={"Idempotency-Key": f"close-{secrets.token_hex(6)}"})
    assert response.status_code == 200 and response.json()["status"] == "closed"
    row = stored(backend, legacy["id"])
    assert row.status == "closed" and row.callback_phone_sealed is None and row.callback_phone_masked is None


# --- staff messages ------------------------------------------------------------------------------

def test_only_the_claimer_records_messages(backend, client):
    opened = open_ticket(client, conversation())
    path = f"/v1/handoffs/{opened['id']}/messages"
    assert error_of(client.post(path, json={"staff": "wang"}), 409, "not_claimed_by_you")["status"] == "waiting"
    client.post(f"/v1/handoffs/{opened['id']}/claim", json={"staff": "wang"})
    recorded = client.post(path, json={"staff": "wang"})
    assert recorded.status_code == 201 and recorded.json()["handoff"]["id"] == opened["id"]
    error_of(client.post(path, json={"staff": "li"}), 409, "not_claimed_by_you")
    error_of(client.post(path, json={"staff": "wang", "text": "您好"}), 422, "invalid_request")  # never the text
    entries = audited(backend, "handoff_message_sent", opened["ticket_number"])
    assert entries == [{"staff": "wang", "ticket_number": opened["ticket_number"], "_channel": "staff"}]
    client.post(f"/v1/handoffs/{opened['id']}/release", json={"to": "bot", "staff": "wang"})
    error_of(client.post(path, json={"staff": "wang"}), 409, "already_closed")


# --- call back -----------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["{p}", "+86 {p3}-{p4}-{p7}", "８６{p}", "{p3} {p4} {p7}"])
def test_a_callback_with_consent_stores_the_phone_sealed_and_masked(backend, client, typed):
    phone = personal_values.typed(new_phone(), "call-back phone number")
    backend.secrets_seen.append(phone)
    as_typed = typed.format(p=phone, p3=phone[:3], p4=phone[3:7], p7=phone[7:])
    if as_typed.startswith("８６"):
        as_typed = "+" + as_typed
    sender = conversation()
    opened = open_ticket(client, sender)
    response = client.post(f"/v1/handoffs/{opened['id']}/callback", json={"consent": True, "phone": as_typed})
    assert response.status_code == 200, response.text
    handoff = response.json()["handoff"]
    masked = phone[:3] + "****" + phone[-4:]
    assert handoff["mode"] == "callback" and handoff["status"] == "waiting" and handoff["position"] is None
    assert handoff["callback"] == {"consent": True, "phone": masked}
    row = stored(backend, opened["id"])
    assert phone not in row.callback_phone_sealed and unseal(backend.id_hash_key, row.callback_phone_sealed) == phone
    entry = audited(backend, "handoff_callback_recorded", opened["ticket_number"])[0]
    assert entry["phone"] == masked
    assert phone not in backend.log_path.read_text(errors="replace")
    # A call-back does not hold the chat: the bot answers.
    error_of(client.post("/v1/handoffs/lookup", json={"conversation": sender}), 404, "handoff_not_found")


def test_a_callback_without_consent_records_no_contact(backend, client):
    opened = open_ticket(client, conversation(), mode="callback")
    assert opened["mode"] == "callback" and opened["position"] is None
    response = client.post(f"/v1/handoffs/{opened['id']}/callback", json={"consent": False})
    assert response.json()["handoff"]["callback"] == {"consent": False, "phone": None}
    assert audited(backend, "handoff_callback_recorded", opened["ticket_number"])[0]["phone"] == "no contact"
    error_of(client.post(f"/v1/handoffs/{opened['id']}/callback", json={"consent": False, "phone": "13812345678"}),
             422, "invalid_request")


@pytest.mark.parametrize("phone", ["12345", "谢谢", "1381234567", "138123456789", "23812345678", "010-12345678",
                                   "能打这个吗 13812345678", None])
def test_a_callback_needs_a_mainland_mobile_number(client, phone):
    opened = open_ticket(client, conversation())
    body = {"consent": True} if phone is None else {"consent": True, "phone": phone}
    error_of(client.post(f"/v1/handoffs/{opened['id']}/callback", json=body), 422, "invalid_phone")
    assert view(client, opened["id"])["mode"] == "live"


def test_a_callback_on_a_claimed_or_closed_ticket_conflicts(client):
    opened = open_ticket(client, conversation())
    client.post(f"/v1/handoffs/{opened['id']}/claim", json={"staff": "wang"})
    error_of(client.post(f"/v1/handoffs/{opened['id']}/callback", json={"consent": False}), 409, "already_claimed")
    client.post(f"/v1/handoffs/{opened['id']}/release", json={"to": "bot", "staff": "wang"})
    error_of(client.post(f"/v1/handoffs/{opened['id']}/callback", json={"consent": False}), 409, "already_closed")


def test_asking_for_a_person_again_puts_a_callback_back_in_the_queue(backend, client):
    sender = conversation()
    opened = open_ticket(client, sender, mode="callback")
    again = open_ticket(client, sender, status=200)  # live (the default), during staff hours
    assert again["id"] == opened["id"] and again["mode"] == "live" and isinstance(again["position"], int)
    assert client.post("/v1/handoffs/lookup", json={"conversation": sender}).json()["handoff"]["id"] == opened["id"]
    assert len(audited(backend, "handoff_requeued", opened["ticket_number"])) == 1
    still = open_ticket(client, sender, mode="callback", status=200)  # a call-back asked for: the live one stays
    assert still["mode"] == "live"


# --- expiry --------------------------------------------------------------------------------------

def test_expiry_turns_long_waiting_live_tickets_into_callbacks(backend, client):
    sender = conversation()
    old = open_ticket(client, sender)
    fresh = open_ticket(client, conversation())
    claimed = open_ticket(client, conversation())
    client.post(f"/v1/handoffs/{claimed['id']}/claim", json={"staff": "wang"})
    for ticket in (old, claimed):
        backdate(backend, ticket["id"])

    expired = client.post("/v1/handoffs/expire", json={"older_than_seconds": EXPIRE_AFTER}).json()["expired"]
    mine = [e for e in expired if e["id"] == old["id"]]
    assert mine == [{"id": old["id"], "ticket_number": old["ticket_number"], "conversation": sender,
                     "channel": "web", "language": "zh", "waited_seconds": mine[0]["waited_seconds"]}]
    assert mine[0]["waited_seconds"] >= LONG_AGO.total_seconds() - 5
    assert not {fresh["id"], claimed["id"]} & {e["id"] for e in expired}
    shown = view(client, old["id"])
    assert shown["mode"] == "callback" and shown["status"] == "waiting" and shown["position"] is None
    assert view(client, claimed["id"])["status"] == "claimed"
    error_of(client.post("/v1/handoffs/lookup", json={"conversation": sender}), 404, "handoff_not_found")
    again = client.post("/v1/handoffs/expire", json={"older_than_seconds": EXPIRE_AFTER}).json()["expired"]
    assert old["id"] not in {e["id"] for e in again}
    assert len(audited(backend, "handoff_expired", old["ticket_number"])) == 1


def test_concurrent_sweeps_hand_each_expired_ticket_to_exactly_one(backend):
    """Two (here eight) web processes sweep at once: every expired ticket is
    in exactly one answer (each process tells its citizen once)."""
    sweepers = 8
    with backend.client() as client:
        tickets = {open_ticket(client, conversation())["id"] for _ in range(12)}
    for handoff_id in tickets:
        backdate(backend, handoff_id)
    barrier = threading.Barrier(sweepers)

    def sweep(_: int) -> List[int]:
        with backend.client() as client:
            barrier.wait()
            response = client.post("/v1/handoffs/expire", json={"older_than_seconds": EXPIRE_AFTER})
            assert response.status_code == 200, response.text
            return [e["id"] for e in response.json()["expired"]]

    with ThreadPoolExecutor(sweepers) as pool:
        answers = list(pool.map(sweep, range(sweepers)))
    mine = [handoff_id for answer in answers for handoff_id in answer if handoff_id in tickets]
    assert sorted(mine) == sorted(tickets)  # each exactly once


def test_a_claim_racing_the_sweep_leaves_one_outcome(backend):
    """A claim and a sweep at once: claimed (not expired), or expired then claimed
    (a claim takes a call-back too); never returned expired while claimed first."""
    with backend.client() as client:
        ids = [open_ticket(client, conversation())["id"] for _ in range(6)]
    for handoff_id in ids:
        backdate(backend, handoff_id)
    barrier = threading.Barrier(2)

    def claim() -> Dict[int, int]:
        with backend.client() as client:
            barrier.wait()
            return {i: client.post(f"/v1/handoffs/{i}/claim", json={"staff": "wang"}).status_code for i in ids}

    def sweep() -> List[int]:
        with backend.client() as client:
            barrier.wait()
            return [e["id"] for e in client.post("/v1/handoffs/expire",
                                                 json={"older_than_seconds": EXPIRE_AFTER}).json()["expired"]]

    with ThreadPoolExecutor(2) as pool:
        claims, swept = pool.submit(claim), pool.submit(sweep)
        claims, swept = claims.result(), swept.result()
    assert all(status == 200 for status in claims.values())
    with backend.client() as client:
        for handoff_id in ids:
            shown = view(client, handoff_id)
            assert shown["status"] == "claimed" and shown["mode"] == "live"
    # whichever came first, a claimed ticket is never swept afterwards
    with backend.client() as client:
        later = client.post("/v1/handoffs/expire", json={"older_than_seconds": EXPIRE_AFTER}).json()["expired"]
    assert not set(ids) & {e["id"] for e in later}


@pytest.mark.parametrize("body", [{}, {"older_than_seconds": -1}, {"older_than_seconds": "60"},
                                  {"older_than_seconds": 8 * 24 * 3600}])
def test_expire_needs_a_number_of_seconds(client, body):
    error_of(client.post("/v1/handoffs/expire", json=body), 422, "invalid_request")


# --- the old ticket API keeps its shape ----------------------------------------------------------

def test_the_ticket_list_shows_waiting_and_claimed_as_open(client):
    waiting = open_ticket(client, conversation())
    claimed = open_ticket(client, conversation())
    client.post(f"/v1/handoffs/{claimed['id']}/claim", json={"staff": "wang"})
    tickets = {t["ticket_number"]: t for t in
               client.get("/v1/handoff-tickets", params={"status": "open", "limit": 200}).json()["tickets"]}
    assert tickets[waiting["ticket_number"]]["status"] == tickets[claimed["ticket_number"]]["status"] == "open"
