"""The "did you mean" buttons: human-readable, in the user's language, best first."""
from actions import suggestions
from bot.core import knowledge_base

PARSE = {
    "text": "卡的事",
    "intent": {"name": "nlu_fallback", "confidence": 0.5},
    "intent_ranking": [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "faq", "confidence": 0.45},
        {"name": "check_card_status", "confidence": 0.30},
        {"name": "greet", "confidence": 0.2},
    ],
    "response_selector": {
        "faq": {
            "response": {"intent_response_key": "faq/reissue_process"},
            "ranking": [
                {"intent_response_key": "faq/reissue_process", "confidence": 0.8},
                {"intent_response_key": "faq/reissue_documents", "confidence": 0.15},
                {"intent_response_key": "faq/no_such_topic", "confidence": 0.05},
            ],
        }
    },
}


def test_ranking_combines_intent_and_response_selector_confidence():
    ranked = suggestions.rank(PARSE, "zh")
    assert [s.label for s in ranked] == [
        "faq/reissue_process",  # 0.45 * 0.8 = 0.36
        "check_card_status",  # 0.30
        "faq/reissue_documents",  # 0.45 * 0.15
    ]  # small talk (greet), fallback and unknown topics are never offered


def test_buttons_are_titles_in_the_users_language_with_a_way_out():
    topics = knowledge_base.load()
    zh = suggestions.buttons(PARSE, "zh")
    assert zh == [
        {"title": topics["reissue_process"].entry("zh").title,
         "payload": topics["reissue_process"].entry("zh").question},
        {"title": "查询我的社保卡状态", "payload": "/check_card_status"},
        {"title": "都不是", "payload": "/out_of_scope"},
    ]
    en = suggestions.buttons(PARSE, "en", limit=1)
    assert en[0]["title"] == topics["reissue_process"].entry("en").title
    assert en[-1] == {"title": "None of these", "payload": "/out_of_scope"}


def test_no_candidates_still_offers_a_way_out():
    assert suggestions.buttons({"intent_ranking": []}, "en") == [
        {"title": "None of these", "payload": "/out_of_scope"}
    ]
