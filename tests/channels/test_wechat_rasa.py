"""A WeChat conversation in safe mode through the running product (`python -m bot run`),
and one taken over by a member of staff (issue 12): WeChat's customer-service API is a
local fake (tests/support/fake_wechat_api.py) recording what the product sends."""
import re

import httpx
import pytest

from actions.messages import text as message_text
from bot.channels.wechat import rendering, staff_messages
from bot.core.service_auth import bearer_header
from tests.support import personal_values
from tests.support.fake_wechat_api import FakeWeChatAPI
from tests.support.product import UNCLEAR, start_product
from tests.support.wechat_server import WeChatServer, event_xml, image_xml, text_xml, voice_xml

pytestmark = pytest.mark.product

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    with FakeWeChatAPI("wx0123456789abcdef", "test-wechat-app-secret") as api:
        running = start_product(tmp_path_factory.mktemp("wechat-product"), WECHAT_API_BASE=api.base_url,
                                HANDOFF_HOURS="always")  # staff answer whenever the test runs
        running.fake_api = api
        yield running
        running.stop()


@pytest.fixture(scope="module")
def wechat(product):
    env = product.env
    return WeChatServer(env["WECHAT_TOKEN"], env["WECHAT_APP_ID"], env["WECHAT_ENCODING_AES_KEY"])


@pytest.fixture(scope="module")
def url(product):
    return f"{product.rasa_url}/webhooks/wechat/webhook"


def send(wechat, url, xml):
    """What the user sees for one message sent in safe mode (None for `success`)."""
    params, body = wechat.request(xml)
    response = httpx.post(url, params=params, content=body, timeout=30)
    return wechat.read_reply(response.status_code, response.text)


def user_events(product, openid):
    tracker = httpx.get(
        f"{product.rasa_url}/conversations/{openid}/tracker", params={"token": product.env["RASA_AUTH_TOKEN"]},
        timeout=30,
    ).json()
    return [event for event in tracker["events"] if event["event"] == "user"]


def test_url_verification_on_the_rasa_server(wechat, url):
    response = httpx.get(url, params={**wechat.url_params(), "echostr": "5837397749613345"}, timeout=30)
    assert (response.status_code, response.text) == (200, "5837397749613345")
    bad = httpx.get(url, params={**wechat.url_params(), "signature": "0" * 40, "echostr": "x"}, timeout=30)
    assert bad.status_code == 403


def test_faq_in_chinese(wechat, url):
    answer = send(wechat, url, text_xml("oWeChatZh000000000000000001", "补办的社保卡需要重新激活吗?"))
    assert answer.startswith("需要") and "激活" in answer, answer


def test_faq_in_english(wechat, url):
    answer = send(wechat, url, text_xml("oWeChatEn000000000000000001", "Does my reissued card need to be activated?"))
    assert answer.startswith("Yes") and "activat" in answer, answer
    assert not HAN.search(answer.replace("社会保障卡管理办法", ""))


def test_voice_recognition_is_a_question(wechat, url):
    answer = send(wechat, url, voice_xml("oWeChatVoice00000000000000001", "补办的社保卡需要重新激活吗"))
    assert answer.startswith("需要"), answer


def test_welcome_and_unsupported_types(wechat, url):
    welcome = send(wechat, url, event_xml("oWeChatNew0000000000000000001", "subscribe"))
    assert welcome == rendering.WELCOME and "挂失" in welcome
    assert send(wechat, url, image_xml("oWeChatNew0000000000000000001")) == rendering.UNSUPPORTED
    assert "文字和语音" in rendering.UNSUPPORTED


def test_numbered_option_then_a_form_that_keeps_state_per_openid(wechat, url):
    alice, bob = "oWeChatAlice00000000000000001", "oWeChatBob0000000000000000001"
    offered = send(wechat, url, text_xml(alice, UNCLEAR))
    assert "您是想问下面哪一个？" in offered, offered
    lines = offered.splitlines()
    assert lines[-1] == "回复数字选择"
    number = next(line.split(".")[0] for line in lines if line.endswith("怎么补办、去哪补办"))
    full_width = chr(ord("０") + int(number))
    assert "社保卡遗失或损坏时" in send(wechat, url, text_xml(alice, full_width))
    assert "姓名" in send(wechat, url, text_xml(alice, "帮我查一下社保卡状态"))
    assert "身份证号码" in send(wechat, url, text_xml(alice, "张三"))
    # Bob's conversation is his own: a name from him is no answer to a question he was never asked
    # (another name than Alice's: a name typed elsewhere than at the name prompt is kept as typed).
    assert "身份证号码" not in send(wechat, url, text_xml(bob, "孙丽"))
    assert "验证码" in send(wechat, url, text_xml(alice, "11010519491231002X"))


def test_a_message_retried_three_times_reaches_the_assistant_once(product, wechat, url):
    openid = "oWeChatRetry00000000000000001"
    xml = text_xml(openid, "补卡要带什么材料")
    answers = [send(wechat, url, xml) for _ in range(3)]
    assert len(set(answers)) == 1 and "身份证件" in answers[0], answers
    assert len(user_events(product, openid)) == 1


def test_refusals_through_the_rasa_server(wechat, url):
    params, body = wechat.request(text_xml("oWeChatEvil00000000000000001", "hi"))
    assert httpx.post(url, params={**params, "msg_signature": "0" * 40}, content=body, timeout=30).status_code == 403
    assert httpx.post(url, params=params, content=b"<xml>" + b"a" * 70000, timeout=30).status_code == 413
    assert httpx.post(url, params=params, content=b"<xml><oops", timeout=30).status_code == 400
    # the product has an EncodingAESKey: plaintext is refused before its XML is read
    assert httpx.post(url, params={k: v for k, v in params.items() if k != "encrypt_type"},
                      content=b"<xml><oops", timeout=30).status_code == 403


def test_the_logs_hold_no_openid_or_message_text(product, wechat, url):
    openid, question = "oWeChatPrivate000000000000001", "补卡以后原来的卡号还能用吗"
    assert "姓名" in send(wechat, url, text_xml(openid, "帮我查一下社保卡状态"))
    assert "身份证号码" in send(wechat, url, text_xml(openid, "张三"))
    assert "验证码" in send(wechat, url, text_xml(openid, "11010519491231002X"))
    assert send(wechat, url, text_xml(openid, question))  # an FAQ in the middle of the form is answered
    assert len(user_events(product, openid)) == 4  # every message reached the assistant
    logs = "".join(p.read_text(errors="replace") for p in (product.output.parent / "log").glob("*"))
    assert "Rasa server is up and running" in logs
    logs += product.output.read_text(errors="replace")
    for secret in (openid, "11010519491231002X", question):
        assert secret not in logs


def test_answers_within_the_deadline_go_in_the_reply_and_never_through_the_api(product, wechat, url):
    """A turn answered within WeChat's deadline goes back in the passive reply: the customer-service
    API (a fake of WeChat's, where this product would send) receives nothing for it."""
    before = product.fake_api.send_attempts
    assert "激活" in send(wechat, url, text_xml("oWeChatFastReply0000000001", "补办的社保卡需要重新激活吗?"))
    assert product.fake_api.send_attempts == before


# --- a person takes over (issue 12) ---------------------------------------------------------------

def say(wechat, url, openid, message):
    """What the follower sees for one text message (None for `success`)."""
    personal_values.typed_in(message, openid)
    return send(wechat, url, text_xml(openid, message))


def backend(product, method, path, **json):
    """The card backend's hand-over API, as the web process calls it (the service token)."""
    response = httpx.request(method, f"{product.backend_url}{path}", json=json or None, timeout=30,
                             headers=bearer_header(product.env["BACKEND_SERVICE_TOKEN"]))
    assert response.status_code == 200, (path, response.status_code, response.text)
    return response.json()


def trigger(product, openid, intent, entities=()):
    """What the web process does after changing a hand-over: Rasa speaks, through WeChat."""
    response = httpx.post(f"{product.rasa_url}/conversations/{openid}/trigger_intent",
                          params={"output_channel": "wechat"}, json={"name": intent, "entities": list(entities)},
                          headers=bearer_header(product.env["RASA_AUTH_TOKEN"]), timeout=60)
    assert response.status_code == 200, response.text


def staff_message(product, openid, text):
    """What the web process does when the member of staff holding the conversation writes."""
    return httpx.post(f"{product.rasa_url}/webhooks/wechat/staff-message", json={"openid": openid, "text": text},
                      headers=product.rest_headers, timeout=30)


def delivered(api, count):
    """The texts the customer-service API received, once there are `count` of them."""
    sent = api.wait_for_sent(count)
    assert len(sent) == count, sent
    return [message["text"]["content"] for message in sent]


def events_after(product, openid, text):
    """The tracker's events after the user's message `text` (its last one)."""
    events = httpx.get(f"{product.rasa_url}/conversations/{openid}/tracker",
                       headers=bearer_header(product.env["RASA_AUTH_TOKEN"]), timeout=30).json()["events"]
    last = max(i for i, event in enumerate(events) if event["event"] == "user" and event.get("text") == text)
    return events[last + 1:]


@pytest.fixture()
def api(product):
    """The fake customer-service API, emptied for this test."""
    api = product.fake_api
    api.sent.clear()
    api.send_errcodes = []
    return api


def test_a_conversation_taken_over_by_a_member_of_staff(product, wechat, url, api):
    openid = "oWeChatHandoff00000000000001"
    queued = say(wechat, url, openid, "转人工")
    assert "已为您转接人工客服" in queued and "算了" in queued, queued
    assert "handoff" not in queued and "{" not in queued  # the custom payload is for the channel only
    handoff = backend(product, "POST", "/v1/handoffs/lookup", conversation=openid)["handoff"]
    assert (handoff["status"], handoff["mode"], handoff["channel"]) == ("waiting", "live", "wechat")

    # Held: the follower's messages are stored for the person, the assistant says nothing.
    assert say(wechat, url, openid, "我的卡在外地丢了，能邮寄给我吗") is None
    assert say(wechat, url, openid, "1") is None  # a number is for the person too
    assert [e for e in events_after(product, openid, "1") if e["event"] in ("bot", "action")] == []

    # A member of staff claims it (the backend, then Rasa speaks through the customer-service API).
    backend(product, "POST", f"/v1/handoffs/{handoff['id']}/claim", staff="counter1", staff_name="王**")
    trigger(product, openid, "EXTERNAL_handoff_claimed", [{"entity": "staff_name", "value": "王**"}])
    assert delivered(api, 1) == [message_text("handoff_claimed", "zh", staff="王**")]

    # ... and writes; WeChat's refusal comes back with a plain message for staff.
    answer = staff_message(product, openid, "您好，请问卡是在哪里丢的？")
    assert (answer.status_code, answer.json()) == (200, {"sent": True})
    assert delivered(api, 2)[1] == "您好，请问卡是在哪里丢的？"
    api.send_errcodes = [45015]
    refused = staff_message(product, openid, "还在吗？")
    assert refused.status_code == 502
    assert refused.json()["error"] == {"code": "wechat_refused", "errcode": 45015,
                                       "message": staff_messages.refusal_message(45015)}
    assert staff_message(product, openid, "x").status_code == 200  # the fake accepts again
    assert httpx.post(f"{product.rasa_url}/webhooks/wechat/staff-message", json={"openid": openid, "text": "x"},
                      timeout=30).status_code == 401  # only the web process may send

    # The follower answers the person, then leaves: the assistant says so and answers again.
    assert say(wechat, url, openid, "在火车站丢的") is None
    personal_values.typed("11010519491231002X", "ID number")
    assert say(wechat, url, openid, "身份证号11010519491231002X") is None
    assert say(wechat, url, openid, "算了") == message_text("handoff_left_by_citizen", "zh")
    closed = backend(product, "GET", f"/v1/handoffs/{handoff['id']}")["handoff"]
    assert (closed["status"], closed["outcome"]) == ("closed", "back_to_bot")
    assert say(wechat, url, openid, "补办的社保卡需要重新激活吗?").startswith("需要")

    # The tracker store holds the whole conversation, redacted as always.
    said = [e["text"] for e in events_after(product, openid, "转人工")
            if e["event"] == "user" and not e["text"].startswith("EXTERNAL")]  # not the triggers
    assert said == ["我的卡在外地丢了，能邮寄给我吗", "1", "在火车站丢的", "身份证号110105********002X", "算了",
                    "补办的社保卡需要重新激活吗?"]
    assert not any("11010519491231002X" in text for text in product.stored_user_texts(openid))


def test_staff_hands_back_and_nobody_came_in_time(product, wechat, url, api):
    """Staff hand back (the update goes out by the API), and a second hand-over that
    nobody claims in time gets the call-back question as numbered options."""
    openid = "oWeChatHandoff00000000000002"
    assert "已为您转接人工客服" in say(wechat, url, openid, "我要人工")
    handoff = backend(product, "POST", "/v1/handoffs/lookup", conversation=openid)["handoff"]
    backend(product, "POST", f"/v1/handoffs/{handoff['id']}/release", to="bot", by="staff", staff="counter1")
    trigger(product, openid, "EXTERNAL_handoff_released", [{"entity": "by", "value": "staff"}])
    assert delivered(api, 1) == [message_text("handoff_handed_back", "zh")]
    assert say(wechat, url, openid, "补办的社保卡需要重新激活吗?").startswith("需要")

    assert "已为您转接人工客服" in say(wechat, url, openid, "我要人工")
    expired = backend(product, "POST", "/v1/handoffs/expire", older_than_seconds=0)["expired"]
    assert openid in [entry["conversation"] for entry in expired]
    trigger(product, openid, "EXTERNAL_handoff_timeout")
    offer = delivered(api, 2)[1]
    assert offer.startswith(message_text("handoff_timeout", "zh", minutes=10)), offer
    assert offer.endswith("1. 需要\n2. 不用了\n回复数字选择"), offer
    # no longer held (a call-back ticket): "2" picks 不用了, and nobody will call
    declined = say(wechat, url, openid, "2")
    assert "不会有人回电" in declined, declined
