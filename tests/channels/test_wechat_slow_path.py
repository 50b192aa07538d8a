"""WeChat's slow path through the running product (`python -m bot run`): a
turn that outlives the passive-reply deadline gets `success` at once, and the
real assistant's answer goes out by the customer-service API. WeChat's API is
the one part played by a fake (tests/support/fake_wechat_api.py: a real HTTP
server recording what it is sent); the deadline is set so short that every
turn of this product is a slow one."""
from pathlib import Path

import httpx
import pytest

from actions.messages import text as message_text
from tests.support.fake_wechat_api import FakeWeChatAPI
from tests.support.product import UNCLEAR, start_product
from tests.support.wait import wait_until
from tests.support.wechat_server import WeChatServer, text_xml

pytestmark = pytest.mark.product
# The form's first question and its second: each comes from the action server, a turn that waits on I/O.
ASK_NAME = message_text("ask_holder_name", "zh")
ASK_ID = message_text("ask_id_number_masked", "zh")


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    with FakeWeChatAPI("wx0123456789abcdef", "test-wechat-app-secret") as api:
        running = start_product(tmp_path_factory.mktemp("wechat-slow"), WECHAT_API_BASE=api.base_url,
                                WECHAT_REPLY_SECONDS="0.001")  # no turn of Rasa's is that quick
        running.fake_api = api
        yield running
        running.stop()


@pytest.fixture(scope="module")
def wechat(product):
    return WeChatServer.of(product.env)


@pytest.fixture()
def api(product):
    """The fake API, its counts as this test finds them."""
    api = product.fake_api
    api.sent.clear()
    api.send_errcodes = []
    return api


def post(product, wechat, xml):
    """What WeChat gets back for one message in safe mode: None for `success`."""
    params, body = wechat.request(xml)
    response = httpx.post(f"{product.rasa_url}/webhooks/wechat/webhook", params=params, content=body, timeout=30)
    return wechat.read_reply(response.status_code, response.text)


def delivered(api, count):
    sent = api.wait_for_sent(count)
    assert len(sent) == count, sent
    return [message["text"]["content"] for message in sent]


def user_messages(product, openid):
    tracker = httpx.get(f"{product.rasa_url}/conversations/{openid}/tracker",
                        params={"token": product.env["RASA_AUTH_TOKEN"]}, timeout=30).json()
    return [event for event in tracker["events"] if event["event"] == "user"]


def test_a_slow_turn_answers_success_and_the_answer_comes_by_the_api(product, wechat, api):
    openid = "oWeChatSlow0000000000000000001"
    xml = text_xml(openid, "帮我查一下社保卡状态")
    assert post(product, wechat, xml) is None  # `success`
    assert post(product, wechat, xml) is None  # WeChat's retry: `success`, no second turn
    assert delivered(api, 1) == [ASK_NAME]
    assert api.sent[0]["touser"] == openid and api.sent[0]["msgtype"] == "text"
    assert post(product, wechat, xml) is None  # a retry after delivery: still `success`
    assert len(user_messages(product, openid)) == 1
    # The form goes on: the next message is a turn of its own, delivered after the first.
    assert post(product, wechat, text_xml(openid, "张三")) is None
    assert delivered(api, 2)[1] == ASK_ID
    assert len(user_messages(product, openid)) == 2


def test_did_you_mean_comes_numbered_and_a_number_chooses(product, wechat, api):
    openid = "oWeChatSlowChoice0000000000001"
    assert post(product, wechat, text_xml(openid, UNCLEAR)) is None
    offered = delivered(api, 1)[0]
    assert "您是想问下面哪一个？" in offered and offered.splitlines()[-1] == "回复数字选择", offered
    number = next(line.split(".")[0] for line in offered.splitlines() if line.endswith("怎么补办、去哪补办"))
    # The chosen topic's answer needs no action: Rasa answers it before the deadline's
    # timer can run (a turn without I/O holds the event loop), so it is the passive reply.
    answer = post(product, wechat, text_xml(openid, number)) or delivered(api, 2)[1]
    assert answer.startswith("社保卡遗失或损坏时"), answer


def test_an_expired_access_token_is_fetched_again_and_the_answer_delivered(product, wechat, api):
    openid = "oWeChatSlowToken00000000000001"
    requests_before = api.token_requests
    api.send_errcodes = [42001]  # "access_token expired", answered to the first send
    assert post(product, wechat, text_xml(openid, "帮我激活社保卡")) is None
    assert delivered(api, 1) == [ASK_NAME]
    assert api.token_requests == requests_before + 1


def test_a_refused_delivery_is_logged_without_the_text_or_the_openid(product, wechat, api):
    openid = "oWeChatSlowRefused000000000001"
    attempts = api.send_attempts
    api.send_errcodes = [45015]  # "the user has not written within 48 hours"
    assert post(product, wechat, text_xml(openid, "帮我查查社保卡的状态")) is None

    def logs():
        return "".join(path.read_text(errors="replace") for path in Path(product.env["LOG_DIR"]).glob("*"))

    wait_until(lambda: "not delivered" in logs(), "the refused delivery in the logs")
    assert api.send_attempts == attempts + 1 and api.sent == []
    assert openid not in logs() and "帮我查查" not in logs()
