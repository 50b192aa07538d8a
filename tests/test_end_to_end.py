"""The whole product, started as `make run` starts it, answering over the REST channel."""
import re

import httpx
import pytest

from tests.support.product import texts

pytestmark = pytest.mark.product

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_reissued_card_needs_activation_in_chinese(product):
    answer = texts(product.say("e2e-zh", "补办的社保卡需要重新激活吗?"))
    assert answer.startswith("需要"), answer
    assert "激活" in answer


def test_reissued_card_needs_activation_in_english(product):
    answer = texts(product.say("e2e-en", "Does my reissued card need to be activated?"))
    assert answer.startswith("Yes"), answer
    assert "activat" in answer and not HAN.search(answer.replace("社会保障卡管理办法", ""))


def test_reply_follows_the_language_of_each_message(product):
    sender = "e2e-switch"
    first = texts(product.say(sender, "补卡要带什么材料"))
    assert HAN.search(first) and "身份证件" in first
    second = texts(product.say(sender, "what documents do I need to reissue my card?"))
    assert second.startswith("To have a card reissued"), second
    # "ok" says nothing about language: the conversation stays in English.
    third = texts(product.say(sender, "ok"))
    assert third and not HAN.search(third), third
    fourth = texts(product.say(sender, "谢谢"))
    assert HAN.search(fourth), fourth


def test_out_of_scope_question_says_what_it_can_help_with(product):
    answer = texts(product.say("e2e-oos", "养老金每个月什么时候发？"))
    assert "不在我的服务范围" in answer and "补办" in answer


def test_law_question_cites_article_16(product):
    answer = texts(product.say("e2e-law", "补办社保卡有什么法律依据"))
    assert "第十六条" in answer and "《社会保障卡管理办法》" in answer


def test_rasa_http_api_needs_the_token(product):
    url = f"{product.rasa_url}/model/parse"
    assert httpx.post(url, json={"text": "你好"}, timeout=30).status_code == 401
    parsed = httpx.post(url, params={"token": "test-token"}, json={"text": "补办的社保卡需要重新激活吗"}, timeout=30).json()
    assert parsed["intent"]["name"] == "faq"
    assert parsed["response_selector"]["faq"]["response"]["intent_response_key"] == "faq/reissue_needs_activation"


def test_two_stage_fallback_offers_topics_then_a_human(product):
    sender = "e2e-fallback"
    product.say(sender, "你好")  # the conversation is in Chinese
    # Buttons send payloads; "/nlu_fallback" is what NLU concludes on a message it does not understand.
    first = product.say(sender, "/nlu_fallback")
    assert first[0]["text"] == "您是想问下面哪一个？"
    assert first[0]["buttons"][-1] == {"title": "都不是", "payload": "/out_of_scope"}
    second = product.say(sender, "/out_of_scope")
    assert "换个说法" in second[0]["text"]
    assert second[0]["buttons"] == [{"title": "转人工客服", "payload": "/human_handoff"}]
    product.say(sender, "/nlu_fallback")
    last = product.say(sender, "/out_of_scope")
    assert "转接人工客服" in last[0]["text"]


def test_did_you_mean_buttons_lead_to_the_answer(product):
    sender = "e2e-did-you-mean"
    replies = product.say(sender, "Does my reissued card need to be activated?")
    assert replies[0]["text"].startswith("Yes")
    first = product.say(sender, "/nlu_fallback")
    assert first[0]["text"] == "Did you mean one of these?"
    # A topic button's payload is the topic's canonical question, which NLU
    # must understand: choosing it answers that topic.
    from bot.core import knowledge_base

    entry = knowledge_base.load()["reissue_documents"].entry("en")
    answer = texts(product.say(sender, entry.question))
    assert answer.startswith("To have a card reissued"), answer


def test_conversations_are_stored_in_the_configured_tracker_store(product):
    import sqlite3

    product.say("e2e-store", "hello")
    with sqlite3.connect(product.env["TRACKER_DB"]) as db:
        count = db.execute("select count(*) from events where sender_id = 'e2e-store'").fetchone()[0]
    assert count > 0


def test_make_run_starts_the_backend_with_the_demo_data(product):
    backend = f"http://127.0.0.1:{product.env['BACKEND_PORT']}"
    headers = {"Authorization": f"Bearer {product.env['BACKEND_SERVICE_TOKEN']}"}
    assert httpx.get(f"{backend}/health", timeout=10).status_code == 200
    started = httpx.post(
        f"{backend}/v1/verifications", headers=headers, timeout=10,
        json={"name": "张三", "id_number": "11010519491231002X", "channel": "web"},
    )
    assert started.status_code == 201, started.text
    assert "phone_masked" not in started.json()  # no phone hint (issue 15)
