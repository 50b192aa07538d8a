"""Citizens rate on WeChat (issue 13) through the running product (`python -m bot run`): safe-mode
WeChat messages to the real assistant, a member of staff on the web process's console, WeChat's
customer-service API a local fake; the ratings read back from the product's staff database under
the conversation's key, the rated answer's id the one the conversation's history gives it."""
import httpx
import pytest
from sqlalchemy import select

from bot.channels.wechat import rendering
from bot.core.opaque import conversation_key, hasher
from bot.core.service_auth import bearer_header
from bot.db import Database
from bot.web.ratings import ConversationRating, MessageFeedback
from bot.web.rasa_client import history_from_events
from tests.support import personal_values
from tests.support.fake_wechat_api import FakeWeChatAPI
from tests.support.product import STAFF_PASSWORD, STAFF_USER, start_product
from tests.support.wechat_server import WeChatServer, text_xml

pytestmark = pytest.mark.product

FAQ_ZH = "补办的社保卡需要重新激活吗?"


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    with FakeWeChatAPI("wx0123456789abcdef", "test-wechat-app-secret") as api:
        running = start_product(tmp_path_factory.mktemp("wechat-ratings"), WECHAT_API_BASE=api.base_url)
        running.fake_api = api
        yield running
        running.stop()


@pytest.fixture(scope="module")
def wechat(product):
    env = product.env
    return WeChatServer(env["WECHAT_TOKEN"], env["WECHAT_APP_ID"], env["WECHAT_ENCODING_AES_KEY"])


def say(product, wechat, openid, message):
    """What the follower sees for one text message in safe mode (None for `success`)."""
    personal_values.typed_in(message, openid)
    params, body = wechat.request(text_xml(openid, message))
    response = httpx.post(f"{product.rasa_url}/webhooks/wechat/webhook", params=params, content=body, timeout=30)
    return wechat.read_reply(response.status_code, response.text)


def events(product, openid):
    return httpx.get(f"{product.rasa_url}/conversations/{openid}/tracker",
                     headers=bearer_header(product.env["RASA_AUTH_TOKEN"]), timeout=30).json()["events"]


def user_texts(product, openid):
    return [e["text"] for e in events(product, openid) if e["event"] == "user"]


def stored(product, table, openid, *columns):
    """Rows of a ratings table for the follower's conversation key, as the web process keys it."""
    db = Database(product.env["STAFF_DB_URL"])
    key = conversation_key(hasher(product.env["WEB_SECRET_KEY"]), openid)
    try:
        with db.read() as session:
            return session.execute(select(*columns).where(table.conversation == key)).all()
    finally:
        db.dispose()


def test_the_first_faq_answer_is_rated_by_a_full_width_number(product, wechat):
    openid = "oWeChatRates00000000000000001"
    answer = say(product, wechat, openid, FAQ_ZH)
    assert answer.startswith("需要") and answer.endswith("\n\n" + rendering.RATE_ANSWER["zh"]), answer
    assert say(product, wechat, openid, "１") == rendering.RATING_THANKS["zh"]
    # asked once a session; the rating was no turn of the assistant's
    again = say(product, wechat, openid, "补卡要带什么材料")
    assert "身份证件" in again and rendering.RATE_ANSWER["zh"] not in again, again
    assert user_texts(product, openid) == [FAQ_ZH, "补卡要带什么材料"]
    rated_id = next(m["id"] for m in history_from_events(events(product, openid))
                    if m["from"] == "bot" and m["text"].startswith("需要"))
    assert stored(product, MessageFeedback, openid, MessageFeedback.message_id, MessageFeedback.rating) \
        == [(rated_id, "up")]


def test_in_english_anything_else_is_a_turn_and_the_question_lapses(product, wechat):
    openid = "oWeChatRates00000000000000002"
    answer = say(product, wechat, openid, "Does my reissued card need to be activated?")
    assert answer.startswith("Yes") and answer.endswith("\n\n" + rendering.RATE_ANSWER["en"]), answer
    assert say(product, wechat, openid, "How much does a replacement card cost?") != rendering.RATING_THANKS["en"]
    say(product, wechat, openid, "2")
    assert user_texts(product, openid)[-1] == "2"  # no longer a rating: the assistant had it
    assert stored(product, MessageFeedback, openid, MessageFeedback.rating) == []


def test_not_asked_while_a_form_is_active(product, wechat):
    openid = "oWeChatRates00000000000000003"
    assert "姓名" in say(product, wechat, openid, "帮我查一下社保卡状态")
    answer = say(product, wechat, openid, FAQ_ZH)  # answered, and the form asks for the name again
    assert "激活" in answer and rendering.RATE_ANSWER["zh"] not in answer, answer


def test_the_end_of_a_human_conversation_is_rated_one_to_five(product, wechat):
    openid = "oWeChatRates00000000000000004"
    api = product.fake_api
    assert "已为您转接人工客服" in say(product, wechat, openid, "转人工")
    handoff = httpx.post(f"{product.backend_url}/v1/handoffs/lookup", json={"conversation": openid}, timeout=30,
                         headers=bearer_header(product.env["BACKEND_SERVICE_TOKEN"])).json()["handoff"]
    with httpx.Client(base_url=product.web_url, timeout=60) as staff:
        login = staff.post("/api/staff/login", json={"username": STAFF_USER, "password": STAFF_PASSWORD})
        staff.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        before = len(api.sent)
        assert staff.post(f"/api/staff/handoffs/{handoff['id']}/claim").status_code == 200
        joined = api.wait_for_sent(before + 1)[-1]["text"]["content"]
        assert "已接入" in joined and rendering.RATE_CONVERSATION["zh"] not in joined
        assert say(product, wechat, openid, "5") is None  # held: for the person, not a rating
        closed = staff.post(f"/api/staff/handoffs/{handoff['id']}/release", json={"to": "closed"})
        assert closed.status_code == 200, closed.text
    ended = api.wait_for_sent(before + 2)[-1]["text"]["content"]
    assert ended.endswith("\n\n" + rendering.RATE_CONVERSATION["zh"]) and "结束" in ended, ended
    assert say(product, wechat, openid, "４") == rendering.RATING_THANKS["zh"]
    # under a key of its own for this conversation with a person (not the follower's: one rating each)
    assert stored(product, ConversationRating, openid, ConversationRating.score) == []
    db = Database(product.env["STAFF_DB_URL"])
    try:
        with db.read() as session:
            assert session.execute(select(ConversationRating.score)).all() == [(4,)]
    finally:
        db.dispose()
    assert user_texts(product, openid)[-1] != "４"  # no turn
