"""Red team, SMS: a script holding leaked name/ID pairs cannot tell holders
from others, and cannot flood a citizen's phone with codes."""
from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from bot.backend.models import SmsMessage
from tests.support.backend import new_id_number, sqlite_backend

LEAKED = [("李四", "440524188001010014"), ("李四", "110105194912310021"), ("王五", new_id_number()),
          ("张三", "440524188001010014")]  # a holder, a bad check character, nobody, a holder's ID with another name


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    with sqlite_backend(tmp_path_factory, "redteam-sms") as running:
        yield running


def sent(backend) -> int:
    with backend.db.read() as session:
        return session.execute(select(func.count()).select_from(SmsMessage)).scalar_one()


def shape(response: httpx.Response):
    body = response.json()
    return response.status_code, tuple(sorted(body)), tuple(sorted(body.get("error", {})))


def test_a_script_cannot_sort_leaked_pairs_into_holders_and_others(backend):
    with backend.client() as client:
        answers = {}
        for name, id_number in LEAKED:
            response = client.post("/v1/verifications", json={"name": name, "id_number": id_number})
            if response.status_code == 422:  # not a valid ID number at all: says nothing about anyone
                assert response.json()["error"]["code"] == "invalid_id_number"
                continue
            assert "phone" not in response.text and "138" not in response.text
            confirm = client.post(f"/v1/verifications/{response.json()['verification_id']}/confirm",
                                  json={"code": "000000"})
            answers[(name, id_number)] = (shape(response), shape(confirm), confirm.json()["error"].get("attempts_left"))
    assert len(answers) == 3 and len(set(answers.values())) == 1, answers


def test_a_script_cannot_flood_a_phone(backend):
    before = sent(backend)
    replies = []
    with backend.client() as client:
        for _ in range(30):  # a holder's name and ID number, again and again
            replies.append(client.post("/v1/verifications", json={"name": "陈静", "id_number": "440305199203150043"}))
    assert [r.status_code for r in replies].count(201) == 5
    refused = replies[-1].json()["error"]
    assert refused["code"] == "too_many_codes" and 0 < refused["retry_after"] <= 3600
    assert sent(backend) - before == 5  # the citizen's phone got five messages, not thirty
