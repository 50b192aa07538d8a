"""actions/backend_client.py against the real card backend (SQLite, demo data).

The backend is started as the backend tests start it (tests/support/backend.py:
`python -m bot.backend serve --seed-if-empty` on a free port, development mode); SMS
codes are read from its /dev/outbox with the service token, as a developer
would. Failures the backend cannot produce on demand (a refused connection,
a timeout, a 5xx, a reply that is not JSON) come from tiny local servers.
"""
from __future__ import annotations

import logging
import re
import time
from typing import Iterator

import httpx
import pytest

from actions.backend_client import (
    BackendClient,
    BackendRefused,
    BackendUnavailable,
    Card,
    CardNotActivatable,
    CardNotFound,
    CardNotReportable,
    Handoff,
    HandoffConflict,
    HandoffNotFound,
    IdentityLocked,
    InvalidIdNumber,
    InvalidPhone,
    PersonalDataInSummary,
    Token,
    VerificationExpired,
    VerificationRequired,
    WrongCode,
    idempotency_key,
)
from bot.ops.processes import free_port
from tests.support.broken_server import BrokenServers
from tests.support.backend import Backend, start_backend

ZHANG = ("张三", "11010519491231002X", "13800000001")
LI = ("李四", "440524188001010014", "13800000002")


@pytest.fixture(scope="module")
def backend(tmp_path_factory) -> Iterator[Backend]:
    directory = tmp_path_factory.mktemp("client-backend")
    running = start_backend("sqlite", f"sqlite:///{directory / 'backend.db'}", directory)
    yield running
    running.group.stop()
    running.db.dispose()


@pytest.fixture()
async def client(backend):
    async with BackendClient(backend.url, backend.token) as c:
        yield c


def outbox_code(backend: Backend, phone_masked: str = None) -> str:
    """The newest code sent (to this masked phone), from GET /dev/outbox."""
    response = httpx.get(f"{backend.url}/dev/outbox", params={"limit": 50}, headers=backend.auth, timeout=10)
    response.raise_for_status()
    for message in response.json()["messages"]:  # newest first
        if phone_masked is None or message["phone_masked"] == phone_masked:
            code = re.search(r"(?<!\d)(\d{6})(?!\d)", message["text"]).group(1)
            backend.secrets_seen.append(code)
            return code
    raise AssertionError(f"no message to {phone_masked} in the outbox")


async def verify(client: BackendClient, backend: Backend, name: str, id_number: str) -> Token:
    verification = await client.start_verification(name, id_number, "web")
    return await client.confirm_verification(verification.verification_id, outbox_code(backend))


def audited(backend: Backend, action: str, card_id: str) -> int:
    return sum(1 for entry in backend.audit(action) if f'"{card_id}"' in entry.detail)


# --- happy paths with the demo holders -----------------------------------------------------------

async def test_verify_list_activate_and_follow_the_application(client, backend, caplog):
    caplog.set_level(logging.DEBUG, logger="actions.backend_client")
    name, id_number, phone = LI

    verification = await client.start_verification(name, id_number, "web", idempotency_key("conv-li", "verify", "m1"))
    assert not hasattr(verification, "phone_masked")  # no phone hint (issue 15)
    assert verification.expires_in == 300
    assert verification.verification_id.startswith("ver_")
    # A retried start (same key) sends no second code and returns the same verification.
    again = await client.start_verification(name, id_number, "web", idempotency_key("conv-li", "verify", "m1"))
    assert again == verification

    before = time.time()
    token = await client.confirm_verification(verification.verification_id, outbox_code(backend, "138****0002"))
    assert token.name_masked == "李*"
    assert token.id_number_masked == "440524********0014"
    assert before + 890 < token.expires_at < time.time() + 910
    assert token.valid()
    assert token.token not in repr(token)

    cards = await client.list_cards(token)
    assert [(c.card_number_masked, c.status) for c in cards] == [("****0102", "issued_inactive"), ("****0002", "cancelled")]
    new_card = cards[0]
    assert isinstance(new_card, Card)
    assert new_card.card_id.startswith("crd_") and new_card.social_security_active is False
    assert new_card.issued_on == "2026-11-10"

    key = idempotency_key("conv-li", "activate", new_card.card_id, "m7")
    activated = await client.activate_card(token, new_card.card_id, key, "web")
    assert activated.status == "active"
    assert activated.social_security_active is True
    assert activated.financial_active == new_card.financial_active  # the bank function is never touched
    assert activated.card_number_masked == "****0102"

    # The action is retried (e.g. the reply was lost): same key, same answer, one activation.
    assert await client.activate_card(token.token, new_card.card_id, key, "web") == activated
    assert audited(backend, "card_activated", new_card.card_id) == 1

    # A new attempt on an active card is refused with the current status.
    with pytest.raises(CardNotActivatable) as refused:
        await client.activate_card(token, new_card.card_id, idempotency_key("conv-li", "activate", new_card.card_id, "m9"))
    assert refused.value.status == "active" and refused.value.code == "card_not_activatable"
    assert refused.value.http_status == 409

    applications = await client.list_applications(token)
    assert len(applications) == 1
    application = applications[0]
    assert application.status == "collected"
    assert application.old_card_number_masked == "****0002"
    assert application.new_card_number_masked == "****0102"
    assert [e.status for e in application.timeline] == ["submitted", "in_production", "ready_for_pickup", "collected"]
    assert all(e.at.endswith("Z") and e.note for e in application.timeline)

    # The client's log names method, path and status; never the ID number, phone, code or token.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "POST /v1/verifications 201" in logged and "GET /v1/cards 200" in logged
    assert "replayed" in logged
    for secret in [id_number, phone, token.token, *backend.secrets_seen]:
        assert secret not in logged


async def test_report_loss_once(client, backend):
    token = await verify(client, backend, *ZHANG[:2])
    [card] = await client.list_cards(token)
    assert (card.card_number_masked, card.status, card.financial_active) == ("****0001", "active", True)

    key = idempotency_key("conv-zhang", "report_loss", card.card_id, "m3")
    report = await client.report_loss(token, card.card_id, key, "web")
    assert report.kind == "temporary" and report.loss_report_id
    assert report.card.status == "reported_lost" and report.card.card_id == card.card_id

    assert await client.report_loss(token, card.card_id, key, "web") == report
    assert audited(backend, "card_reported_lost", card.card_id) == 1

    with pytest.raises(CardNotReportable) as refused:
        await client.report_loss(token, card.card_id, idempotency_key("conv-zhang", "report_loss", card.card_id, "m4"))
    assert refused.value.status == "reported_lost"


async def test_handoff_ticket(client, backend):
    anonymous = await client.open_handoff_ticket("用户询问补卡进度，需要人工帮助。", "web", "zh", idempotency_key("conv-h", "handoff", "m1"))
    assert re.fullmatch(r"HD-\d{8}-\d{4}", anonymous.ticket_number)
    assert anonymous.status == "open" and anonymous.created_at.endswith("Z")
    assert anonymous.holder_linked is False
    # Retried: the same ticket, not a second one.
    again = await client.open_handoff_ticket("用户询问补卡进度，需要人工帮助。", "web", "zh", idempotency_key("conv-h", "handoff", "m1"))
    assert again == anonymous

    token = await verify(client, backend, "陈静", "440305199203150043")
    linked = await client.open_handoff_ticket("User wants help activating a card.", "web", "en",
                                              idempotency_key("conv-c", "handoff", "m2"), token=token)
    assert linked.holder_linked is True and linked.ticket_number != anonymous.ticket_number

    with pytest.raises(PersonalDataInSummary):
        await client.open_handoff_ticket("身份证 440305199203150043 的用户", "web", "zh", idempotency_key("conv-c", "handoff", "m3"))


async def test_live_handoff_callback_and_release(client, backend):
    live = await client.open_handoff_ticket("用户想找人工。", "web", "zh", idempotency_key("conv-live", "handoff", "m1"),
                                            conversation="conv-live")
    assert isinstance(live.id, int) and live.mode == "live" and live.position >= 1
    queued = await client.open_handoff_ticket("用户想找人工。", "web", "zh", idempotency_key("conv-live2", "handoff", "m1"),
                                              conversation="conv-live2")
    assert queued.position == live.position + 1

    callback = await client.open_handoff_ticket("用户要求回电。", "web", "zh", idempotency_key("conv-cb", "callback", "m1"),
                                                conversation="conv-cb", mode="callback")
    assert callback.mode == "callback" and callback.position is None
    with pytest.raises(InvalidPhone):
        await client.callback(callback.id, consent=True, phone="谢谢")
    recorded = await client.callback(callback.id, consent=True, phone="+86 138-0013-8000")
    assert isinstance(recorded, Handoff)
    assert recorded.mode == "callback" and recorded.callback_consent is True and recorded.callback_phone_masked == "138****8000"
    no_contact = await client.record_callback(live.id, consent=False)
    assert no_contact.mode == "callback" and no_contact.callback_consent is False and no_contact.callback_phone_masked is None

    released = await client.release(queued.id)
    assert released.status == "closed" and released.outcome == "back_to_bot"
    with pytest.raises(HandoffConflict) as conflict:
        await client.release(queued.id)
    assert conflict.value.code == "already_closed" and conflict.value.status == "closed"
    with pytest.raises(HandoffConflict) as conflict:
        await client.callback(queued.id, consent=False)
    assert conflict.value.code == "already_closed"
    with pytest.raises(HandoffNotFound):
        await client.release(999999)


# --- refusals ------------------------------------------------------------------------------------

async def test_unknown_holder_and_invalid_id_numbers(client):
    # A real ID number, the wrong name: started like any other, its confirm a wrong code.
    unknown = await client.start_verification("张三", LI[1], "web")
    with pytest.raises(WrongCode):
        await client.confirm_verification(unknown.verification_id, "123456")

    with pytest.raises(InvalidIdNumber) as wrong_check:
        await client.start_verification("张三", "110105194912310021", "web")
    assert wrong_check.value.reason == "check_character" and wrong_check.value.http_status == 422

    with pytest.raises(InvalidIdNumber) as short:
        await client.start_verification("张三", "1101051949", "web")
    assert short.value.reason == "length"


async def test_wrong_codes_then_lock_out(client, backend):
    person = backend.person("issued_inactive")
    verification = await client.start_verification(person.name, person.id_number, "web")
    right = outbox_code(backend, person.phone[:3] + "****" + person.phone[-4:])
    wrong = f"{(int(right) + 1) % 10 ** 6:06d}"

    for expected_left in (4, 3, 2, 1):
        with pytest.raises(WrongCode) as refused:
            await client.confirm_verification(verification.verification_id, wrong)
        assert refused.value.attempts_left == expected_left

    with pytest.raises(IdentityLocked) as locked:
        await client.confirm_verification(verification.verification_id, wrong)
    assert 1700 < locked.value.retry_after <= 1800

    # Locked: even the right code, and any new verification, are refused.
    with pytest.raises(IdentityLocked):
        await client.confirm_verification(verification.verification_id, right)
    with pytest.raises(IdentityLocked) as again:
        await client.start_verification(person.name, person.id_number, "web")
    assert again.value.retry_after > 0


async def test_expired_verification_token_and_unknown_card(client, backend):
    person = backend.person("active")
    verification = await client.start_verification(person.name, person.id_number, "web")
    code = outbox_code(backend, person.phone[:3] + "****" + person.phone[-4:])
    token = await client.confirm_verification(verification.verification_id, code)

    with pytest.raises(VerificationExpired):  # a code is good once
        await client.confirm_verification(verification.verification_id, code)
    with pytest.raises(VerificationExpired):  # unknown verification: start again too
        await client.confirm_verification("ver_doesnotexist000", code)

    with pytest.raises(VerificationRequired):
        await client.list_cards("not-a-valid-token-at-all-0000")
    with pytest.raises(VerificationRequired):
        await client.list_applications(Token("x" * 43, 0.0, "", ""))

    with pytest.raises(CardNotFound):
        await client.activate_card(token, "crd_doesnotexist000", idempotency_key("c", "activate", "none"))


async def test_wrong_service_token_is_refused(backend):
    async with BackendClient(backend.url, "not-the-service-token") as client:
        with pytest.raises(BackendRefused) as refused:
            await client.start_verification(*ZHANG[:2])
    assert refused.value.code == "unauthorized" and refused.value.http_status == 401


# --- when the backend cannot answer --------------------------------------------------------------

async def test_refused_connection_is_unavailable():
    async with BackendClient(f"http://127.0.0.1:{free_port()}", "token") as client:
        with pytest.raises(BackendUnavailable) as error:
            await client.start_verification(*ZHANG[:2])
    assert error.value.code == "unreachable"


@pytest.fixture()
def tiny_server():
    servers = BrokenServers()
    yield servers.start
    servers.close()


async def test_timeout_is_unavailable(tiny_server):
    """The server does not answer while the test runs: the client giving up
    at all shows it keeps its own timeout (no stopwatch on a busy machine)."""
    url = tiny_server("sleep")
    async with BackendClient(url, "token", timeout=0.3) as client:
        with pytest.raises(BackendUnavailable) as error:
            await client.list_cards("t" * 43)
    assert error.value.code == "timeout"


@pytest.mark.parametrize("mode, status", [("500", 500), ("502", 502)])
async def test_server_error_is_unavailable(tiny_server, mode, status):
    async with BackendClient(tiny_server(mode), "token") as client:
        with pytest.raises(BackendUnavailable) as error:
            await client.activate_card("t" * 43, "crd_abcdefgh", idempotency_key("x"))
    assert error.value.http_status == status


async def test_unparseable_reply_is_unavailable(tiny_server):
    async with BackendClient(tiny_server("garbage"), "token") as client:
        with pytest.raises(BackendUnavailable) as error:
            await client.list_cards("t" * 43)
    assert error.value.code == "bad_reply"


def test_one_client_across_event_loops(backend):
    """The action server keeps one client; tests run each in its own loop."""
    import asyncio

    client = BackendClient(backend.url, backend.token)
    for _ in range(2):
        assert asyncio.run(client.start_verification("王五", ZHANG[1], "web")).verification_id
    asyncio.run(client.aclose())


# --- small pieces --------------------------------------------------------------------------------

def test_idempotency_key_is_deterministic_and_fits_the_api():
    key = idempotency_key("conversation-1", "activate", "crd_123", "message-9")
    assert key == idempotency_key("conversation-1", "activate", "crd_123", "message-9")
    assert key != idempotency_key("conversation-1", "activate", "crd_123", "message-10")
    assert key != idempotency_key("conversation-1", "activate", "crd_12", "3message-9")  # parts are separated
    assert re.fullmatch(r"[A-Za-z0-9_.:-]{1,100}", key)
    assert "conversation" not in key


def test_from_settings_reads_the_settings_table():
    client = BackendClient.from_settings({"BACKEND_URL": "http://127.0.0.1:9/", "BACKEND_SERVICE_TOKEN": "s3cret-token"})
    assert client.base_url == "http://127.0.0.1:9"
    assert client.timeout == 3.0
    assert "s3cret" not in repr(client)
    derived = BackendClient.from_settings({"HELPDESK_HOST": "127.0.0.2", "BACKEND_PORT": "8123", "BACKEND_SERVICE_TOKEN": "x"})
    assert derived.base_url == "http://127.0.0.2:8123"
