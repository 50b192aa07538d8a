"""Every endpoint of the card backend, success and failure paths, against the
real server (SQLite and PostgreSQL: see conftest.py)."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import secrets

import httpx
import pytest
from sqlalchemy import select

from bot.backend.models import Card, Holder, IdempotencyRecord, LossReport, Verification
from bot.backend.openapi import document
from bot.backend.seed import DEMO_HOLDERS
from tests.support import personal_values
from tests.support.backend import Person, error_of, new_id_number

CARD_STATUSES = ("in_production", "ready_for_pickup", "issued_inactive", "active", "reported_lost", "cancelled")
TICKET_NUMBER = re.compile(r"^HD-\d{8}-\d{4}$")


def unique_key(prefix: str) -> str:
    """An Idempotency-Key no other request of the session uses (and no personal value: the backend keeps keys as sent)."""
    return f"{prefix}-{secrets.token_hex(6)}"


def holder_headers(token: str, key: str = None) -> dict:
    headers = {"X-Verification-Token": token}
    if key:
        headers["Idempotency-Key"] = key
    return headers


def demo(name: str) -> Person:
    holder = next(h for h in DEMO_HOLDERS if h.name == name)
    return Person(holder.name, holder.id_number, holder.phone)


# --- public routes, authentication -----------------------------------------------------------

def test_health_and_openapi_need_no_token(backend):
    assert httpx.get(f"{backend.url}/health").json() == {"status": "ok"}
    spec = httpx.get(f"{backend.url}/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert "/dev/outbox" in spec["paths"]
    assert spec == json.loads(json.dumps(document(development=True)))


PROTECTED = [
    (method.upper(), path)
    for path, operations in document(development=True)["paths"].items()
    for method in operations
    if path != "/health"
]


@pytest.mark.parametrize("method,path", PROTECTED)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic abc", "Bearer"])
def test_every_route_refuses_a_missing_or_wrong_service_token(backend, method, path, authorization):
    path = path.replace("{card_id}", "crd_abcdefghij").replace("{verification_id}", "ver_abcdefghij")
    path = path.replace("{ticket_number}", "HD-20260101-0001")
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.request(method, backend.url + path, headers=headers, json={})
    error_of(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


def test_unknown_route_and_wrong_method(client):
    error_of(client.get("/v1/nothing-here"), 404, "not_found")
    response = client.put("/v1/verifications", json={})
    error_of(response, 405, "method_not_allowed")
    assert "POST" in response.headers["allow"]
    error_of(client.delete("/v1/cards"), 405, "method_not_allowed")


# --- identity verification ----------------------------------------------------------------------

def test_verification_happy_path_and_audit(backend, client):
    person = backend.person("active")
    started = client.post("/v1/verifications", json={"name": person.name, "id_number": person.id_number, "channel": "wechat"})
    assert started.status_code == 201, started.text
    body = started.json()
    assert set(body) == {"verification_id", "expires_in"}  # no hint of the phone
    assert body["expires_in"] == 300
    code = backend.last_code(person.phone)
    assert code not in started.text
    with backend.db.read() as session:
        stored = session.execute(
            select(Verification).where(Verification.public_id == body["verification_id"])
        ).scalar_one()
        assert stored.code_hash != code and code not in stored.code_hash and len(stored.code_hash) == 64
        assert stored.expires_at - stored.created_at == dt.timedelta(minutes=5)

    confirmed = client.post(f"/v1/verifications/{body['verification_id']}/confirm", json={"code": code})
    assert confirmed.status_code == 200, confirmed.text
    result = confirmed.json()
    assert result["expires_in"] == 900
    assert result["holder"] == {"name_masked": "测*人", "id_number_masked": person.id_number[:6] + "********" + person.id_number[-4:]}
    assert len(result["verification_token"]) >= 32

    started_rows = [a for a in backend.audit("verification_started") if body["verification_id"] in a.detail]
    confirmed_rows = [a for a in backend.audit("verification_confirmed") if body["verification_id"] in a.detail]
    assert len(started_rows) == len(confirmed_rows) == 1
    assert started_rows[0].channel == "wechat"
    assert started_rows[0].subject_masked == result["holder"]["id_number_masked"]


def test_id_numbers_are_normalised_before_lookup(client):
    # 张三's number with a lower-case x, full-width digits and spaces.
    fullwidth = "１１０１０５ １９４９１２３１ ００２x"
    response = client.post("/v1/verifications", json={"name": " 张三 ", "id_number": fullwidth})
    assert response.status_code == 201, response.text


def test_unknown_id_and_wrong_name_are_answered_like_a_holder(backend, client):
    """Nothing in the answer tells a holder from no holder (tests/backend/test_enumeration.py: the rest)."""
    person = backend.person("active")
    known = client.post("/v1/verifications", json={"name": person.name, "id_number": person.id_number})
    wrong_name = client.post("/v1/verifications", json={"name": "别人", "id_number": person.id_number})
    unknown_id = client.post("/v1/verifications", json={"name": person.name, "id_number": "110101199001011237"})
    for response in (known, wrong_name, unknown_id):
        assert response.status_code == 201 and set(response.json()) == {"verification_id", "expires_in"}
    assert person.id_number not in wrong_name.text


@pytest.mark.parametrize(
    "id_number,reason",
    [
        ("110105194912310021", "check_character"),
        ("110105491231002", "legacy_15_digits"),
        ("1101051949123100", "length"),
        ("11010519491231002A", "characters"),
        ("110105194913310028", "birth_date"),
        ("110105209912310027", "birth_date"),
        ("", "length"),
    ],
)
def test_invalid_id_numbers_are_422_with_the_reason(client, id_number, reason):
    response = client.post("/v1/verifications", json={"name": "张三", "id_number": id_number})
    if id_number == "":
        error_of(response, 422, "invalid_request")  # minLength, caught by the schema
        return
    error = error_of(response, 422, "invalid_id_number")
    assert error["reason"] == reason
    assert id_number not in response.text


def test_wrong_codes_lock_the_identity_across_verifications(backend, client):
    person = backend.person("active")
    first = backend.start(client, person)
    for attempts_left in (4, 3):
        error = error_of(client.post(f"/v1/verifications/{first}/confirm", json={"code": "000000"}), 422, "wrong_code")
        assert error["attempts_left"] == attempts_left
    second = backend.start(client, person)
    code = backend.last_code(person.phone)
    wrong = "111111" if code != "111111" else "222222"
    for attempts_left in (2, 1):
        error = error_of(client.post(f"/v1/verifications/{second}/confirm", json={"code": wrong}), 422, "wrong_code")
        assert error["attempts_left"] == attempts_left
    locked = error_of(client.post(f"/v1/verifications/{second}/confirm", json={"code": wrong}), 423, "identity_locked")
    assert 1790 <= locked["retry_after"] <= 1800
    # Locked: even the right code, and a new verification, are refused.
    error_of(client.post(f"/v1/verifications/{second}/confirm", json={"code": code}), 423, "identity_locked")
    error_of(client.post("/v1/verifications", json={"name": person.name, "id_number": person.id_number}), 423, "identity_locked")
    masked = person.id_number[:6] + "********" + person.id_number[-4:]
    assert len([a for a in backend.audit("verification_failed") if a.subject_masked == masked]) == 4
    assert len([a for a in backend.audit("identity_locked") if a.subject_masked == masked]) == 1
    assert len([a for a in backend.audit("verification_refused_locked") if a.subject_masked == masked]) == 2

    # 30 minutes later (the lock moved into the past) the holder can verify again.
    with backend.db.write() as session:
        holder = session.execute(select(Holder).where(Holder.phone == person.phone)).scalar_one()
        assert holder.locked_until - dt.datetime.utcnow() > dt.timedelta(minutes=29)
        holder.locked_until = dt.datetime.utcnow() - dt.timedelta(seconds=1)
        session.commit()
    assert backend.verify(person)


def test_concurrent_wrong_codes_are_all_counted(backend):
    person = backend.person("active")
    with backend.client() as c:
        verification_id = backend.start(c, person)
    code = backend.last_code(person.phone)
    wrong = "999999" if code != "999999" else "888888"

    async def attempt(client):
        return await client.post(f"/v1/verifications/{verification_id}/confirm", json={"code": wrong})

    async def main():
        async with httpx.AsyncClient(base_url=backend.url, headers=backend.auth, timeout=60) as client:
            return await asyncio.gather(*(attempt(client) for _ in range(8)))

    statuses = sorted(r.status_code for r in asyncio.run(main()))
    assert statuses == [422] * 4 + [423] * 4


def test_a_code_expires_after_five_minutes(backend, client):
    person = backend.person("active")
    verification_id = backend.start(client, person)
    code = backend.last_code(person.phone)
    backend.execute(
        "UPDATE verifications SET expires_at = :t WHERE public_id = :v",
        t=dt.datetime.utcnow() - dt.timedelta(seconds=1), v=verification_id,
    )
    error_of(client.post(f"/v1/verifications/{verification_id}/confirm", json={"code": code}), 410, "verification_expired")


def test_a_code_works_once(backend, client):
    person = backend.person("active")
    verification_id = backend.start(client, person)
    code = backend.last_code(person.phone)
    assert client.post(f"/v1/verifications/{verification_id}/confirm", json={"code": code}).status_code == 200
    error_of(client.post(f"/v1/verifications/{verification_id}/confirm", json={"code": code}), 410, "verification_expired")


def test_unknown_or_malformed_verification_id(client):
    error_of(client.post("/v1/verifications/ver_doesnotexist0/confirm", json={"code": "123456"}), 404, "verification_not_found")
    error_of(client.post("/v1/verifications/not-an-id/confirm", json={"code": "123456"}), 404, "verification_not_found")


@pytest.mark.parametrize("payload", [{"code": "12345"}, {"code": "1234567"}, {"code": 123456}, {"code": "12345a"},
                                     {"code": "１２３４５６"}, {}, {"code": "123456", "extra": 1}])
def test_confirm_validates_the_code(client, payload):
    error = error_of(client.post("/v1/verifications/ver_doesnotexist0/confirm", json=payload), 422, "invalid_request")
    assert "123456" not in error["message"] and "12345" not in error["message"]


def test_optional_idempotency_key_on_start_sends_one_code(backend, client):
    person = backend.person("active")
    payload = {"name": person.name, "id_number": person.id_number}
    key = unique_key("start")
    first = client.post("/v1/verifications", json=payload, headers={"Idempotency-Key": key})
    again = client.post("/v1/verifications", json=payload, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    from bot.backend.models import SmsMessage

    with backend.db.read() as session:
        sent = session.execute(select(SmsMessage).where(SmsMessage.phone == person.phone)).scalars().all()
    assert len(sent) == 1


# --- verification tokens --------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/v1/cards", "/v1/applications"])
def test_holder_routes_need_a_valid_verification_token(backend, client, path):
    error_of(client.get(path), 401, "verification_required")
    error_of(client.get(path, headers={"X-Verification-Token": "x" * 43}), 401, "verification_required")
    error_of(client.get(path, headers={"X-Verification-Token": "short"}), 401, "verification_required")
    person = backend.person("active")
    token = backend.verify(person)
    assert client.get(path, headers=holder_headers(token)).status_code == 200
    # Tokens live 15 minutes.
    with backend.db.read() as session:
        from bot.backend.models import VerificationToken
        from bot.backend.service import hash_token

        row = session.execute(select(VerificationToken).where(VerificationToken.token_hash == hash_token(token))).scalar_one()
        assert row.expires_at - row.created_at == dt.timedelta(minutes=15)
    backend.execute("UPDATE verification_tokens SET expires_at = :t WHERE token_hash = :h",
                    t=dt.datetime.utcnow() - dt.timedelta(seconds=1), h=hash_token(token))
    error_of(client.get(path, headers=holder_headers(token)), 401, "verification_required")


# --- cards ---------------------------------------------------------------------------------------

def test_demo_holders_cover_every_card_status(backend, client):
    seen = set()
    for holder in DEMO_HOLDERS:
        token = backend.verify(Person(holder.name, holder.id_number, holder.phone))
        cards = client.get("/v1/cards", headers=holder_headers(token)).json()["cards"]
        assert cards
        for card in cards:
            seen.add(card["status"])
            assert re.fullmatch(r"\*{4}\d{4}", card["card_number_masked"])
    assert seen == set(CARD_STATUSES)


def test_list_cards_shows_the_holders_cards_only(backend, client):
    person = backend.person("issued_inactive", "cancelled")
    token = backend.verify(person)
    cards = client.get("/v1/cards", headers=holder_headers(token)).json()["cards"]
    assert {c["card_id"] for c in cards} == set(person.cards.values())
    card = next(c for c in cards if c["status"] == "issued_inactive")
    assert card["social_security_active"] is False and card["financial_active"] is False
    assert card["issued_on"] == "2026-01-01" and card["expires_on"] == "2036-01-01"


def test_activation_and_its_audit(backend, client):
    person = backend.person("issued_inactive")
    token = backend.verify(person)
    card_id = person.cards["issued_inactive"]
    response = client.post(f"/v1/cards/{card_id}/activate", headers=holder_headers(token, "act-1"))
    assert response.status_code == 200, response.text
    card = response.json()
    assert card["status"] == "active" and card["social_security_active"] is True
    assert card["financial_active"] is False  # the bank function stays with the bank
    rows = [a for a in backend.audit("card_activated") if card_id in a.detail]
    assert len(rows) == 1 and rows[0].channel == "web"
    again = client.post(f"/v1/cards/{card_id}/activate", headers=holder_headers(token, "act-2"))
    assert error_of(again, 409, "card_not_activatable")["status"] == "active"


def test_activation_takes_an_optional_channel(backend, client):
    person = backend.person("issued_inactive")
    token = backend.verify(person)
    card_id = person.cards["issued_inactive"]
    response = client.post(f"/v1/cards/{card_id}/activate", headers=holder_headers(token, "act-ch"), json={"channel": "wechat"})
    assert response.status_code == 200
    assert [a.channel for a in backend.audit("card_activated") if card_id in a.detail] == ["wechat"]


@pytest.mark.parametrize("status", [s for s in CARD_STATUSES if s != "issued_inactive"])
def test_only_issued_inactive_cards_activate(backend, client, status):
    person = backend.person(status)
    token = backend.verify(person)
    response = client.post(f"/v1/cards/{person.cards[status]}/activate", headers=holder_headers(token, f"a-{status}"))
    assert error_of(response, 409, "card_not_activatable")["status"] == status


def test_another_holders_card_or_an_unknown_card_is_404(backend, client):
    owner, other = backend.person("issued_inactive"), backend.person("active")
    token = backend.verify(other)
    for i, card_id in enumerate((owner.cards["issued_inactive"], "crd_doesnotexist00", "not-a-card-id", "%00")):
        for action in ("activate", "loss-report"):
            key = unique_key(f"k-{action}-{i}")
            response = client.post(f"/v1/cards/{card_id}/{action}", headers=holder_headers(token, key))
            error_of(response, 404, "card_not_found")
    with backend.db.read() as session:
        card = session.execute(select(Card).where(Card.public_id == owner.cards["issued_inactive"])).scalar_one()
        assert card.status == "issued_inactive"


def test_mutations_need_an_idempotency_key(backend, client):
    person = backend.person("issued_inactive")
    token = backend.verify(person)
    card_id = person.cards["issued_inactive"]
    for path in (f"/v1/cards/{card_id}/activate", f"/v1/cards/{card_id}/loss-report"):
        error_of(client.post(path, headers=holder_headers(token)), 400, "idempotency_key_required")
        error_of(client.post(path, headers=holder_headers(token, "bad key!")), 400, "invalid_idempotency_key")
        error_of(client.post(path, headers=holder_headers(token, "k" * 101)), 400, "invalid_idempotency_key")
    error_of(client.post("/v1/handoff-tickets", json={"summary": "help"}), 400, "idempotency_key_required")
    error_of(client.post("/v1/handoff-tickets/HD-20260101-0001/close"), 400, "idempotency_key_required")


def test_idempotent_replay_and_key_reuse(backend, client):
    person = backend.person("issued_inactive")
    token = backend.verify(person)
    card_id = person.cards["issued_inactive"]
    key = unique_key("replay")
    first = client.post(f"/v1/cards/{card_id}/activate", headers=holder_headers(token, key), json={"channel": "web"})
    second = client.post(f"/v1/cards/{card_id}/activate", headers=holder_headers(token, key), json={"channel": "web"})
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert "idempotent-replayed" not in first.headers and second.headers["idempotent-replayed"] == "true"
    assert len([a for a in backend.audit("card_activated") if card_id in a.detail]) == 1
    # The same key for a different request: 409, and nothing happens.
    error_of(client.post(f"/v1/cards/{card_id}/activate", headers=holder_headers(token, key), json={"channel": "wechat"}),
             409, "idempotency_key_reused")
    error_of(client.post(f"/v1/cards/{card_id}/loss-report", headers=holder_headers(token, key)), 409, "idempotency_key_reused")
    with backend.db.read() as session:
        assert session.execute(select(Card.status).where(Card.public_id == card_id)).scalar_one() == "active"
        record = session.execute(select(IdempotencyRecord).where(IdempotencyRecord.key == key)).scalar_one()
        assert record.response_status == 200


def test_a_refusal_is_replayed_too(backend, client):
    person = backend.person("cancelled")
    token = backend.verify(person)
    path = f"/v1/cards/{person.cards['cancelled']}/activate"
    first = client.post(path, headers=holder_headers(token, "refused-1"))
    again = client.post(path, headers=holder_headers(token, "refused-1"))
    assert first.status_code == again.status_code == 409 and first.json() == again.json()


def test_concurrent_activations_exactly_one_succeeds(backend):
    person = backend.person("issued_inactive")
    token = backend.verify(person)
    card_id = person.cards["issued_inactive"]

    async def main():
        async with httpx.AsyncClient(base_url=backend.url, headers=backend.auth, timeout=60) as client:
            return await asyncio.gather(*(
                client.post(f"/v1/cards/{card_id}/activate", headers=holder_headers(token, f"race-{card_id}-{i}"))
                for i in range(10)
            ))

    responses = asyncio.run(main())
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 9, [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert response.json()["error"] == {**response.json()["error"], "code": "card_not_activatable", "status": "active"}
    assert len([a for a in backend.audit("card_activated") if card_id in a.detail]) == 1


def test_concurrent_retries_with_one_key_act_once(backend):
    person = backend.person("issued_inactive")
    token = backend.verify(person)
    card_id = person.cards["issued_inactive"]

    async def main():
        async with httpx.AsyncClient(base_url=backend.url, headers=backend.auth, timeout=60) as client:
            return await asyncio.gather(*(
                client.post(f"/v1/cards/{card_id}/activate", headers=holder_headers(token, f"same-{card_id}"))
                for _ in range(10)
            ))

    responses = asyncio.run(main())
    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]
    assert len({r.text for r in responses}) == 1
    assert sum(1 for r in responses if "idempotent-replayed" not in r.headers) == 1
    assert len([a for a in backend.audit("card_activated") if card_id in a.detail]) == 1


# --- loss reports --------------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["active", "issued_inactive"])
def test_loss_report(backend, client, status):
    person = backend.person(status)
    token = backend.verify(person)
    card_id = person.cards[status]
    response = client.post(f"/v1/cards/{card_id}/loss-report", headers=holder_headers(token, f"lost-{card_id}"), json={"channel": "web"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "temporary" and body["card"]["status"] == "reported_lost" and body["card"]["card_id"] == card_id
    with backend.db.read() as session:
        report = session.execute(select(LossReport).where(LossReport.public_id == body["loss_report_id"])).scalar_one()
        assert report.previous_status == status and report.channel == "web"
    assert len([a for a in backend.audit("card_reported_lost") if card_id in a.detail]) == 1
    again = client.post(f"/v1/cards/{card_id}/loss-report", headers=holder_headers(token, f"lost2-{card_id}"))
    assert error_of(again, 409, "card_not_reportable")["status"] == "reported_lost"


@pytest.mark.parametrize("status", ["cancelled", "in_production", "ready_for_pickup"])
def test_cards_not_in_hand_cannot_be_reported_lost(backend, client, status):
    person = backend.person(status)
    token = backend.verify(person)
    response = client.post(f"/v1/cards/{person.cards[status]}/loss-report", headers=holder_headers(token, unique_key(f"nl-{status}")))
    assert error_of(response, 409, "card_not_reportable")["status"] == status


# --- applications --------------------------------------------------------------------------------

def test_applications_and_their_timeline(backend, client):
    li = client.get("/v1/applications", headers=holder_headers(backend.verify(demo("李四")))).json()["applications"]
    assert len(li) == 1
    assert li[0]["status"] == "collected"
    assert [e["status"] for e in li[0]["timeline"]] == ["submitted", "in_production", "ready_for_pickup", "collected"]
    assert li[0]["old_card_number_masked"] == "****0002" and li[0]["new_card_number_masked"] == "****0102"
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", e["at"]) for e in li[0]["timeline"])

    wang = client.get("/v1/applications", headers=holder_headers(backend.verify(demo("王小明")))).json()["applications"]
    assert wang[0]["status"] == "in_production" and wang[0]["pickup_location"]

    liu = client.get("/v1/applications", headers=holder_headers(backend.verify(demo("刘洋")))).json()["applications"]
    assert liu[0]["status"] == "rejected" and liu[0]["new_card_number_masked"] is None

    zhao = client.get("/v1/applications", headers=holder_headers(backend.verify(demo("赵丽")))).json()
    assert zhao == {"applications": []}


# --- handoff tickets ----------------------------------------------------------------------------

def test_open_a_ticket_without_and_with_verification(backend, client):
    anonymous = client.post("/v1/handoff-tickets", json={"summary": "想咨询社保卡补办流程", "channel": "web", "language": "zh"},
                            headers={"Idempotency-Key": f"t-anon-{backend.kind}"})
    assert anonymous.status_code == 201, anonymous.text
    body = anonymous.json()
    assert TICKET_NUMBER.match(body["ticket_number"]) and body["status"] == "open" and body["holder_linked"] is False

    person = backend.person("active")
    token = backend.verify(person)
    linked = client.post("/v1/handoff-tickets", json={"summary": "Card activation failed twice", "language": "en"},
                         headers=holder_headers(token, unique_key("t-linked")))
    assert linked.status_code == 201 and linked.json()["holder_linked"] is True
    # An expired or unknown token does not stop a citizen from reaching a person.
    stale = client.post("/v1/handoff-tickets", json={"summary": "help"},
                        headers=holder_headers("y" * 43, unique_key("t-stale")))
    assert stale.status_code == 201 and stale.json()["holder_linked"] is False

    tickets = client.get("/v1/handoff-tickets", params={"status": "open"}).json()["tickets"]
    by_number = {t["ticket_number"]: t for t in tickets}
    assert by_number[body["ticket_number"]]["holder"] is None
    assert by_number[linked.json()["ticket_number"]]["holder"]["id_number_masked"] == person.id_number[:6] + "********" + person.id_number[-4:]
    assert by_number[linked.json()["ticket_number"]]["language"] == "en"
    numbers = {body["ticket_number"], linked.json()["ticket_number"], stale.json()["ticket_number"]}
    assert {a.detail.split('"ticket_number": "')[1][:16] for a in backend.audit("handoff_ticket_opened")} >= numbers


def test_concurrent_tickets_get_distinct_consecutive_numbers(backend):
    async def main():
        async with httpx.AsyncClient(base_url=backend.url, headers=backend.auth, timeout=60) as client:
            return await asyncio.gather(*(
                client.post("/v1/handoff-tickets", json={"summary": f"concurrent {i}"},
                            headers={"Idempotency-Key": f"tc-{backend.kind}-{i}"})
                for i in range(8)
            ))

    responses = asyncio.run(main())
    assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses]
    numbers = sorted(r.json()["ticket_number"] for r in responses)
    sequence = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert sequence == list(range(sequence[0], sequence[0] + 8))


@pytest.mark.parametrize(
    "summary,code",
    [
        ("我的身份证号是11010519491231002X", "personal_data_in_summary"),
        ("call me on 138 1234 5678", "personal_data_in_summary"),
        ("手机１３８１２３４５６７８", "personal_data_in_summary"),
        ("   ", "invalid_request"),
        ("", "invalid_request"),
        ("x" * 2001, "invalid_request"),
    ],
)
def test_ticket_summaries_are_checked(client, summary, code):
    response = client.post("/v1/handoff-tickets", json={"summary": summary}, headers={"Idempotency-Key": "summary-check"})
    error_of(response, 422, code)
    assert "11010519491231002X" not in response.text and "5678" not in response.text


@pytest.mark.parametrize("params", [{"status": "pending"}, {"limit": "0"}, {"limit": "201"}, {"limit": "ten"}])
def test_ticket_list_parameters(client, params):
    error_of(client.get("/v1/handoff-tickets", params=params), 422, "invalid_request")


def test_close_a_ticket(backend, client):
    opened = client.post("/v1/handoff-tickets", json={"summary": "to close"}, headers={"Idempotency-Key": f"close-open-{backend.kind}"}).json()
    number = opened["ticket_number"]
    closed = client.post(f"/v1/handoff-tickets/{number}/close", headers={"Idempotency-Key": f"close-{number}"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"]
    again = client.post(f"/v1/handoff-tickets/{number}/close", headers={"Idempotency-Key": f"close2-{number}"})
    assert error_of(again, 409, "ticket_not_open")["status"] == "closed"
    error_of(client.post("/v1/handoff-tickets/HD-19990101-9999/close", headers={"Idempotency-Key": "c404"}), 404, "ticket_not_found")
    error_of(client.post("/v1/handoff-tickets/nonsense/close", headers={"Idempotency-Key": "c404b"}), 404, "ticket_not_found")
    closed_list = client.get("/v1/handoff-tickets", params={"status": "closed"}).json()["tickets"]
    assert number in {t["ticket_number"] for t in closed_list}
    assert number not in {t["ticket_number"] for t in client.get("/v1/handoff-tickets", params={"status": "open", "limit": 200}).json()["tickets"]}
    assert [a for a in backend.audit("handoff_ticket_closed") if number in a.detail]


# --- bad input -----------------------------------------------------------------------------------

POST_ROUTES = [
    ("/v1/verifications", {}),
    ("/v1/verifications/ver_abcdefghij/confirm", {}),
    ("/v1/cards/crd_abcdefghij/activate", {"Idempotency-Key": "bad-json"}),
    ("/v1/cards/crd_abcdefghij/loss-report", {"Idempotency-Key": "bad-json"}),
    ("/v1/handoff-tickets", {"Idempotency-Key": "bad-json"}),
    ("/v1/handoff-tickets/HD-20260101-0001/close", {"Idempotency-Key": "bad-json"}),
]


@pytest.fixture(scope="module")
def holder_token(backend):
    return backend.verify(backend.person("active"))


@pytest.mark.parametrize("path,headers", POST_ROUTES)
@pytest.mark.parametrize("content", [b"{", b"{'name': 1}", b"\xff\xfe", b"NaN", b'{"a": Infinity}', b"[" * 5000 + b"]" * 5000,
                                     b'{"n": 1' + b"0" * 5000 + b"}"])
def test_malformed_json_is_400(backend, client, holder_token, path, headers, content):
    response = client.post(path, content=content, headers={**headers, "X-Verification-Token": holder_token,
                                                            "Content-Type": "application/json"})
    error_of(response, 400, "invalid_json")


@pytest.mark.parametrize("path,headers", POST_ROUTES)
@pytest.mark.parametrize("payload", [[], None, "text", 42, {"unknown_field": 1}, {"channel": 5}, {"channel": "UPPER"},
                                     {"channel": "web\u0000"}])
def test_wrong_types_and_unknown_fields_are_422(backend, client, holder_token, path, headers, payload):
    response = client.post(path, content=json.dumps(payload), headers={**headers, "X-Verification-Token": holder_token})
    error = error_of(response, 422, "invalid_request")
    if payload == {"unknown_field": 1}:
        assert "unknown_field" in error["message"]


@pytest.mark.parametrize("payload", [
    {"name": 123, "id_number": "11010519491231002X"},
    {"name": "张三", "id_number": 11010519491231002},
    {"name": "张三"},
    {"name": "张三", "id_number": "11010519491231002X", "phone": "13800000001"},
    {"name": "张\u0000三", "id_number": "11010519491231002X"},
    {"name": "x" * 51, "id_number": "11010519491231002X"},
])
def test_verification_start_validation(client, payload):
    response = client.post("/v1/verifications", json=payload)
    error_of(response, 422, "invalid_request")
    assert "11010519491231002X" not in response.text and "13800000001" not in response.text


def test_lone_surrogates_and_unknown_field_names_are_safe(client):
    response = client.post("/v1/verifications", content=b'{"name": "\\ud800", "id_number": "11010519491231002X"}')
    error_of(response, 422, "invalid_request")
    response = client.post("/v1/verifications", content=b'{"\\ud800\\u0000 13800000001": 1}')
    error = error_of(response, 422, "invalid_request")
    assert "13800000001" not in error["message"]


def test_oversized_bodies_are_413(client):
    big = json.dumps({"summary": "x" * 20000})
    error_of(client.post("/v1/handoff-tickets", content=big, headers={"Idempotency-Key": "big"}), 413, "payload_too_large")

    def chunks():
        for _ in range(40):
            yield b" " * 1024

    response = client.post("/v1/verifications", content=chunks())  # chunked, no Content-Length
    error_of(response, 413, "payload_too_large")


@pytest.mark.parametrize("framing", [
    b"Content-Length: -5\r\n",          # sanic 21.12 alone would spin forever on this one
    b"Content-Length: abc\r\n",
    b"Content-Length: +2\r\n",
    b"Content-Length: 2\r\nContent-Length: 3\r\n",
    b"Transfer-Encoding: gzip\r\n",
    b"Transfer-Encoding: chunked\r\n",  # followed by a chunk size that is not hex
])
def test_malformed_http_framing_is_400_and_the_server_stays_up(backend, framing):
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(backend.url)
    body = b"zz\r\nab\r\n0\r\n\r\n" if b"chunked" in framing else b"{}"
    request = (b"POST /v1/verifications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + backend.token.encode()
               + b"\r\n" + framing + b"\r\n" + body)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(request)
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = connection.recv(4096)
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 400 "), reply[:200]
    assert httpx.get(f"{backend.url}/health", timeout=5).status_code == 200


# --- development outbox --------------------------------------------------------------------------

def test_dev_outbox_shows_the_code_in_development(backend, client):
    person = backend.person("active")
    backend.start(client, person)
    code = backend.last_code(person.phone)
    messages = client.get("/dev/outbox", params={"limit": 5}).json()["messages"]
    mine = [m for m in messages if m["phone_masked"] == person.phone[:3] + "****" + person.phone[-4:]]
    assert mine and code in mine[0]["text"]
    assert all(person.phone not in json.dumps(m) for m in messages)
    error_of(client.get("/dev/outbox", params={"limit": 1000}), 422, "invalid_request")
    error_of(httpx.get(f"{backend.url}/dev/outbox"), 401, "unauthorized")


# --- storage -----------------------------------------------------------------------------------

def test_no_clear_id_number_is_stored(backend, client):
    """ID numbers as they reach the backend, through its API: a holder's, typed
    with spaces, with and without an idempotency key, and an unknown identity's
    with a wrong code (its attempts are counted). None is left in clear text
    in any cell of any table, nor (SQLite) in the file's bytes; each is kept
    masked."""
    person = backend.person("active")  # holders come from the registry's own data: the seed helper stands for it
    unknown = personal_values.typed(new_id_number(), "ID number")
    spaced = f"{person.id_number[:6]} {person.id_number[6:14]} {person.id_number[14:]}"
    for id_number, key in ((spaced, None), (person.id_number.lower(), "storage-1"), (unknown, None)):
        headers = {"Idempotency-Key": key} if key else {}
        response = client.post("/v1/verifications", headers=headers,
                               json={"name": person.name, "id_number": id_number, "channel": "web"})
        assert response.status_code == 201, response.text
    error_of(client.post(f"/v1/verifications/{response.json()['verification_id']}/confirm", json={"code": "000000"}),
             422, "wrong_code")

    cells = personal_values.database_cells(backend.db_url)

    def column(table, name):
        return [value for t, c, value in cells if (t, c) == (table, name)]

    assert person.id_number[:6] + "********" + person.id_number[-4:] in column("holders", "id_number_masked")
    assert unknown[:6] + "********" + unknown[-4:] in column("unknown_identities", "id_number_masked")
    assert personal_values.found_in("\n".join(value for _, _, value in cells), [person.id_number, unknown]) == []
    if backend.kind == "sqlite":
        raw = backend.db_url.split("///", 1)[1]
        for path in (raw, raw + "-wal"):
            try:
                data = open(path, "rb").read().decode("utf-8", "replace")
            except FileNotFoundError:
                continue
            assert personal_values.found_in(data, [person.id_number, unknown]) == [], path


def test_the_audit_log_is_append_only(backend):
    from sqlalchemy.exc import DBAPIError

    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            backend.execute(statement)


def test_models_match_the_migrations(backend):
    from alembic.migration import MigrationContext
    from alembic.autogenerate import compare_metadata

    from bot.backend.models import Base

    with backend.db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() == _head_revision()


def _head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from bot.backend.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


# --- last: the log of everything above -----------------------------------------------------

def test_no_personal_data_or_code_in_the_log(backend, client):
    person = backend.person("issued_inactive")
    token = backend.verify(person)
    client.post(f"/v1/cards/{person.cards['issued_inactive']}/activate", headers=holder_headers(token, unique_key("log")))
    client.post("/v1/verifications", json={"name": person.name, "id_number": person.id_number.lower() + "0"})
    client.post(f"/v1/cards/{person.id_number}/activate", headers=holder_headers(token, "log-path"))
    client.post(f"/v1/cards/{person.phone}/loss-report", headers=holder_headers(token, "log-path2"))
    log = backend.log_path.read_text(encoding="utf-8", errors="replace")
    assert "audit card_activated" in log and "POST /v1/verifications" in log
    demo_values = [h.id_number for h in DEMO_HOLDERS] + [h.phone for h in DEMO_HOLDERS]
    leaked = {value for value in backend.secrets_seen + demo_values if value in log}
    assert not leaked
    assert token not in log
    assert person.name not in log and "张三" not in log
