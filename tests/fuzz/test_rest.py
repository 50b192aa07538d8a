"""The REST channel (POST /webhooks/rest/webhook on the Rasa server) under hostile input."""
import json

import httpx
import pytest

from bot.rasa_ext.rasa_server import MAX_BODY_BYTES
from hypothesis import Phase, given, settings, strategies as st

from tests.fuzz.hostile import (
    EMOJI, FUZZ, MB, TIMEOUT, below_500, content_types, encode, headers_with, hostile_bodies, json_error,
    nasty_text, nested, wait_until_up,
)

pytestmark = [pytest.mark.product, pytest.mark.fuzz]


@pytest.fixture(scope="module")
def client(product):
    with httpx.Client(base_url=product.rasa_url, timeout=TIMEOUT, headers=product.rest_headers) as client:
        yield client


def check(response: httpx.Response, what: str) -> None:
    """Below 500; a 200 is a JSON list of replies; a 4xx has a JSON error body."""
    below_500(response, what)
    if response.status_code == 200:
        replies = response.json()
        assert isinstance(replies, list), replies
        for reply in replies:
            assert isinstance(reply, dict) and "recipient_id" in reply, reply
    else:
        assert response.status_code in (400, 413), (what, response.status_code, response.text[:300])
        json_error(response)


@FUZZ
@given(body=hostile_bodies(), content_type=content_types)
def test_any_body(client, body, content_type):
    response = client.post("/webhooks/rest/webhook", content=body, headers=headers_with(content_type))
    check(response, f"POST rest {body[:200]!r} ({len(body)} bytes, {content_type!r})")


@settings(FUZZ, phases=[Phase.explicit, Phase.generate])  # no shrinking: each failure may restart Rasa
@given(sender=nasty_text, message=nasty_text, metadata=st.none() | st.dictionaries(nasty_text, nasty_text, max_size=3))
def test_well_shaped_messages_of_any_text(product, client, sender, message, metadata):
    """Controls, lone surrogates (raw, i.e. invalid UTF-8), RTL marks, emoji: refused clearly or answered."""
    body = encode(json.dumps({"sender": sender, "message": message, "metadata": metadata}, ensure_ascii=False))
    try:
        response = client.post("/webhooks/rest/webhook", content=body, headers={"Content-Type": "application/json"})
    except httpx.HTTPError as error:
        wait_until_up(product.rasa_url)
        raise AssertionError(f"POST rest {body[:300]!r}: no answer ({error!r})") from error
    check(response, f"POST rest {body[:300]!r}")


@pytest.mark.parametrize("body", [
    b'{"sender": "\\udfff", "message": "hi"}',  # a JSON escape of a lone surrogate
    b'{"sender": "fuzz-ok", "message": "\\ud800"}',
])
def test_a_lone_surrogate_is_refused_or_answered_without_killing_the_server(product, client, body):
    rasa_pid = product.processes()["rasa server"]
    try:
        response = client.post("/webhooks/rest/webhook", content=body, headers={"Content-Type": "application/json"})
        check(response, f"POST rest {body!r}")
    except httpx.HTTPError as error:
        raise AssertionError(f"POST rest {body!r}: no answer ({error!r})") from error
    finally:
        wait_until_up(product.rasa_url)
    assert product.processes()["rasa server"] == rasa_pid, f"POST rest {body!r} killed the Rasa server"


@pytest.mark.parametrize("message, status", [
    (EMOJI[0] * 100_000, 413),  # 100k emoji, 400 kB of UTF-8
    (EMOJI * 700, 200),  # under the limit: answered, ZWJ sequences and flags included
    ("社" * MB, 413),
    ("\x00", 400),
])
def test_huge_emoji_and_oversized_messages(client, message, status):
    response = client.post("/webhooks/rest/webhook", json={"sender": "fuzz-emoji", "message": message})
    assert response.status_code == status, response.text[:300]
    check(response, "big message")


@pytest.mark.parametrize("opener", ["[", "{"])
def test_deeply_nested_json_is_400(client, opener):
    for depth in (1000, 10_000, 100_000):
        body = nested(depth, opener)
        response = client.post("/webhooks/rest/webhook", content=body, headers={"Content-Type": "application/json"})
        # Past the Rasa server's body limit the size alone refuses it, before any parsing.
        assert response.status_code == (413 if len(body) > MAX_BODY_BYTES else 400), (depth, response.text[:300])
        json_error(response)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_wrong_methods_are_405(client, method):
    response = client.request(method, "/webhooks/rest/webhook", content=b'{"sender": "x", "message": "hi"}')
    assert response.status_code == 405, response.text[:300]
