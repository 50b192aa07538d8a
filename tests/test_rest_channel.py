"""The REST channel (bot/channels/rest.py) on the running product: Rasa's
reply format, and a clear 4xx for every malformed request instead of a 500."""
import httpx
import pytest

from bot.channels.rest import MAX_MESSAGE_CHARS

pytestmark = pytest.mark.product
GREETING = "您好！我是社保卡智能助手"  # utter_greet in domain.yml


def post(product, content: bytes, content_type="application/json"):
    return httpx.post(f"{product.rasa_url}/webhooks/rest/webhook", content=content,
                      headers={"Content-Type": content_type, **product.rest_headers}, timeout=30)


def test_a_question_gets_rasas_reply_format(product):
    replies = product.say("rest-format", "补办的社保卡需要重新激活吗?")
    assert replies[0]["recipient_id"] == "rest-format" and "激活" in replies[0]["text"]


@pytest.mark.parametrize("body, code", [
    (b"", "invalid_json"),
    (b"{not json", "invalid_json"),
    (b'\xff\xfe{"sender": "a"}', "invalid_json"),
    (b"[1, 2, 3]", "invalid_request"),
    (b"42", "invalid_request"),
    (b'{"message": "hi"}', "invalid_request"),
    (b'{"sender": "", "message": "hi"}', "invalid_request"),
    (b'{"sender": ["a"], "message": "hi"}', "invalid_request"),
    (b'{"sender": "a", "message": 5}', "invalid_request"),
    (b'{"sender": "a", "message": "a\\u0000b"}', "invalid_request"),
    (b'{"sender": "a", "message": "hi", "metadata": "x"}', "invalid_request"),
])
def test_malformed_bodies_get_400_with_the_reason(product, body, code):
    response = post(product, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == code


def test_an_overlong_message_gets_413_and_the_server_goes_on(product):
    response = post(product, ('{"sender": "long", "message": "%s"}' % ("长" * (MAX_MESSAGE_CHARS + 1))).encode())
    assert response.status_code == 413 and response.json()["error"]["code"] == "message_too_long"
    [reply] = product.say("long", "你好")  # the same conversation still works: greeted, in Chinese
    assert reply["recipient_id"] == "long" and reply["text"].startswith(GREETING), reply
