"""A WeChat conversation in safe mode through the running product (`python -m bot run`)."""
import re

import httpx
import pytest

from bot.channels.wechat import rendering
from tests.support.fake_wechat_api import FakeWeChatAPI
from tests.support.product import UNCLEAR, start_product
from tests.support.wechat_server import WeChatServer, event_xml, image_xml, text_xml, voice_xml

pytestmark = pytest.mark.product

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    with FakeWeChatAPI("wx0123456789abcdef", "test-wechat-app-secret") as api:
        running = start_product(tmp_path_factory.mktemp("wechat-product"), WECHAT_API_BASE=api.base_url)
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
    """What the user sees for one message sent in safe mode."""
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
