"""A script holding leaked names and ID numbers learns nothing from the
backend about who is a holder, and cannot flood a phone with codes."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.backend.models import SmsMessage
from tests.support.backend import error_of, new_id_number


def start(client, name, id_number):
    return client.post("/v1/verifications", json={"name": name, "id_number": id_number})


def sms_count(backend) -> int:
    with backend.db.read() as session:
        return session.execute(select(func.count()).select_from(SmsMessage)).scalar_one()


def test_no_holder_is_answered_and_confirmed_like_a_holder(backend, client):
    holder = backend.person("active")
    sent_before = sms_count(backend)
    answers = {}
    for label, name, id_number in (("holder", holder.name, holder.id_number),
                                   ("wrong name", "别人", holder.id_number),
                                   ("no holder", holder.name, new_id_number())):
        response = start(client, name, id_number)
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == {"verification_id", "expires_in"} and body["expires_in"] == 300
        confirms = [client.post(f"/v1/verifications/{body['verification_id']}/confirm", json={"code": "000000"})
                    for _ in range(5)]
        answers[label] = [(r.status_code, r.json()["error"]["code"], r.json()["error"].get("attempts_left"))
                          for r in confirms]
    assert answers["holder"] == answers["wrong name"] == answers["no holder"] == [
        (422, "wrong_code", 4), (422, "wrong_code", 3), (422, "wrong_code", 2), (422, "wrong_code", 1),
        (423, "identity_locked", None)]
    assert sms_count(backend) == sent_before + 1  # only the holder's phone got a code
    # The wrong name locked itself, not the holder: the holder's lock is the holder's own.
    locked = error_of(start(client, "别人", holder.id_number), 423, "identity_locked")
    assert locked["retry_after"] > 1700


def test_codes_per_identity_an_hour(backend, client):
    holder = backend.person("active")
    for name, id_number in ((holder.name, holder.id_number), ("无此人", new_id_number())):
        for _ in range(5):
            assert start(client, name, id_number).status_code == 201
        refused = error_of(start(client, name, id_number), 429, "too_many_codes")
        assert 3500 < refused["retry_after"] <= 3600


def test_codes_per_phone_a_day_whoever_asks(backend, client):
    first = backend.person("active")
    people = [first]
    for _ in range(2):  # other holders with the same phone on file
        other = backend.person("active")
        backend.execute("UPDATE holders SET phone = :phone WHERE phone = :old", phone=first.phone, old=other.phone)
        other.phone = first.phone
        people.append(other)
    for person in people[:2]:
        for _ in range(5):
            assert start(client, person.name, person.id_number).status_code == 201
    refused = error_of(start(client, people[2].name, people[2].id_number), 429, "too_many_codes")
    assert 86000 < refused["retry_after"] <= 86400
    with backend.db.read() as session:
        to_phone = session.execute(select(func.count()).select_from(SmsMessage)
                                   .where(SmsMessage.phone == first.phone)).scalar_one()
    assert to_phone == 10


@pytest.mark.parametrize("code", ["000000", "123456"])
def test_a_no_holder_verification_never_confirms(backend, client, code):
    started = start(client, "无此人", new_id_number()).json()
    response = client.post(f"/v1/verifications/{started['verification_id']}/confirm", json={"code": code})
    error_of(response, 422, "wrong_code")
