"""What a citizen message becomes in the facts (bot/insights/facts.py): its group key, its outcome
and label from the parse data NLU stored, its local day."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.insights.facts import LOW_CONFIDENCE, channel_name, classify, group_key, local_day, utc_bounds


@pytest.mark.parametrize("one, other", [
    ("补卡要钱吗", "补卡 要钱吗？"), ("補卡要錢嗎", "补卡要钱吗"), ("How much?", "how MUCH"), ("ｈｅｌｌｏ！", "hello"),
    ("12333", "999"), ("电话 138****0002", "电话138****1234"),
])
def test_similar_messages_share_a_group_key(one, other):
    assert group_key(one) == group_key(other)


def test_a_group_key_is_at_most_200_characters_and_never_none():
    assert len(group_key("补" * 500)) == 200
    assert group_key(None) == group_key("") == group_key("？！ ") == ""
    assert group_key("补卡要钱吗") != group_key("补卡要带什么")


def parse(intent, confidence, ranking=None, faq=None, faq_confidence=None):
    data = {"intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in (ranking or [(intent, confidence)])]}
    if faq:
        data["response_selector"] = {"faq": {"response": {"intent_response_key": faq, "confidence": faq_confidence},
                                             "ranking": [{"intent_response_key": faq, "confidence": faq_confidence}]}}
    return data


def test_an_faq_answer_is_its_key_with_the_guards_confidence():
    assert classify(parse("faq", 0.9, faq="faq/reissue_fee", faq_confidence=0.9)) == {
        "intent": "faq", "topic": "reissue_fee", "predicted": "faq/reissue_fee", "confidence": pytest.approx(0.81),
        "outcome": "answered"}
    low = classify(parse("faq", 0.8, faq="faq/reissue_fee", faq_confidence=0.7))  # 0.56
    assert (low["outcome"], low["topic"]) == ("low_confidence", "reissue_fee")


def test_other_intents_fallback_and_out_of_scope():
    assert classify(parse("check_card_status", LOW_CONFIDENCE))["outcome"] == "answered"
    assert classify(parse("check_card_status", 0.59))["outcome"] == "low_confidence"
    fell = classify(parse("nlu_fallback", 0.55, [("nlu_fallback", 0.55), ("faq", 0.5), ("greet", 0.2)],
                          faq="faq/activation_how", faq_confidence=0.4))
    assert fell == {"intent": "nlu_fallback", "topic": "nlu_fallback", "predicted": "faq/activation_how",
                    "confidence": pytest.approx(0.2), "outcome": "fallback"}
    assert classify(parse("nlu_fallback", 0.55, [("nlu_fallback", 0.55), ("greet", 0.3)]))["predicted"] == "greet"
    assert classify(parse("out_of_scope", 0.9)) == {"intent": "out_of_scope", "topic": "out_of_scope",
                                                     "predicted": "out_of_scope", "confidence": 0.9,
                                                     "outcome": "out_of_scope"}


@pytest.mark.parametrize("parse_data", [{"intent": {}}, {"intent": {"name": None}}, {}, None, "junk"])
def test_a_message_without_an_intent_is_held(parse_data):
    assert classify(parse_data) == {"intent": None, "topic": None, "predicted": None, "confidence": None,
                                    "outcome": "held"}


def test_days_are_china_standard_time():
    assert local_day(dt.datetime(2026, 3, 10, 15, 59)) == dt.date(2026, 3, 10)
    assert local_day(dt.datetime(2026, 3, 10, 16, 0)) == dt.date(2026, 3, 11)
    assert utc_bounds(dt.date(2026, 3, 10), dt.date(2026, 3, 11)) == (dt.datetime(2026, 3, 9, 16),
                                                                      dt.datetime(2026, 3, 11, 16))


def test_channels():
    assert [channel_name(c) for c in ("rest", "wechat", None, "")] == ["web", "wechat", "unknown", "unknown"]
