"""The web process's parts that need no server: signed chat ids, password
hashes, the history built from a tracker, the two FAQ rankings."""
from __future__ import annotations

import pytest

from bot import knowledge_base
from bot.web.faq_search import FaqSearch, KeywordIndex, guess_language, model_ranking
from bot.web.rasa_client import RasaUnavailable, history_from_events
from bot.web.sessions import SENDER_PREFIX, ChatSessions
from bot.web.staff.accounts import AccountError, check_new_account
from bot.web.staff.passwords import hash_password, verify_password


# --- chat session ids -----------------------------------------------------------------------------

def test_a_session_id_is_random_and_signed():
    sessions = ChatSessions("key-one")
    first, second = sessions.issue(), sessions.issue()
    assert first != second
    assert sessions.sender(first).startswith(SENDER_PREFIX)
    assert sessions.sender(first) == SENDER_PREFIX + first.split(".")[0]
    assert sessions.sender(first) != sessions.sender(second)


@pytest.mark.parametrize("forge", [
    lambda s: None,
    lambda s: "",
    lambda s: s.split(".")[0],  # unsigned
    lambda s: s.split(".")[0] + "." + "A" * 43,  # wrong signature
    lambda s: "x" + s[1:],  # another nonce, the old signature
    lambda s: s + "A",
    lambda s: s.replace(".", ":"),
    lambda s: "admin",
    lambda s: s + "\n",
])
def test_forged_or_malformed_ids_have_no_sender(forge):
    sessions = ChatSessions("key-one")
    assert sessions.sender(forge(sessions.issue())) is None


def test_an_id_signed_with_another_key_is_refused():
    assert ChatSessions("key-two").sender(ChatSessions("key-one").issue()) is None


def test_no_key_no_sessions():
    with pytest.raises(ValueError):
        ChatSessions("")


# --- passwords ------------------------------------------------------------------------------------

def test_scrypt_hash_with_a_salt_per_hash():
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("scrypt$16384$8$1$") and first != second
    assert "correct horse battery" not in first
    assert verify_password("correct horse battery", first) and verify_password("correct horse battery", second)
    assert not verify_password("correct horse batterY", first)
    assert not verify_password("x", "not-a-hash") and not verify_password("x", "md5$1$2$3$4$5")


@pytest.mark.parametrize("username,password,reason", [
    ("", "long-enough-password", "username"),
    ("bad name", "long-enough-password", "username"),
    ("-dash-first", "long-enough-password", "username"),
    ("ok", "short", "10 characters"),
    ("ok", "x" * 1025, "at most"),
])
def test_account_rules(username, password, reason):
    with pytest.raises(AccountError, match=reason):
        check_new_account(username, password)
    assert check_new_account(" Counter2 ", "long-enough-password") == "counter2"


# --- history --------------------------------------------------------------------------------------

def test_a_rewind_takes_back_the_last_user_message_and_what_followed():
    events = [
        {"event": "user", "text": "补卡"},
        {"event": "bot", "text": "答案一"},
        {"event": "user", "text": "嗯"},
        {"event": "bot", "text": "您是想问？", "data": {"buttons": [{"title": "A", "payload": "/a"}]}},
        {"event": "rewind"},
        {"event": "user", "text": "/a"},
    ]
    assert [m["text"] for m in history_from_events(events)] == ["补卡", "答案一", "/a"]


def test_history_keeps_user_and_bot_messages_and_shows_a_clicked_button_by_its_title():
    buttons = [{"title": "有哪些激活方式", "payload": "社保卡有哪些激活方式？"}, {"title": "都不是", "payload": "/out_of_scope"}]
    events = [
        {"event": "action", "name": "action_session_start"},
        {"event": "user", "text": "激活", "parse_data": {}},
        {"event": "bot", "text": "您是想问下面哪一个？", "data": {"buttons": buttons}},
        {"event": "user", "text": "社保卡有哪些激活方式？"},
        {"event": "action", "name": "action_two_stage_fallback"},
        {"event": "rewind"},  # the fallback takes the message back; Rasa replays it
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "社保卡有哪些激活方式？"},
        {"event": "bot", "text": "社保卡激活通常有两种方式：\n1. 柜台激活", "data": {}},
        {"event": "user", "text": "/out_of_scope"},  # no buttons before it any more: shown as is
        {"event": "slot", "name": "language", "value": "zh"},
        {"event": "bot", "text": None, "data": {"buttons": None}},  # nothing to show
    ]
    assert history_from_events(events) == [
        {"from": "user", "text": "激活", "buttons": []},
        {"from": "bot", "text": "您是想问下面哪一个？", "buttons": buttons},
        {"from": "user", "text": "有哪些激活方式", "buttons": []},
        {"from": "bot", "text": "社保卡激活通常有两种方式：\n1. 柜台激活", "buttons": []},
        {"from": "user", "text": "/out_of_scope", "buttons": []},
    ]


# --- FAQ ranking ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def keywords():
    return KeywordIndex(knowledge_base.load())


@pytest.mark.parametrize("query,expected", [
    ("补卡要带什么材料", "reissue_documents"),
    ("補卡要帶什麼材料", "reissue_documents"),  # traditional characters
    ("补办的社保卡需要重新激活吗", "reissue_needs_activation"),
    ("卡号会变吗", "card_number_change"),
    ("法律依据是什么", "legal_basis"),
    ("what documents do I need to reissue my card", "reissue_documents"),
    ("how do I activate it online", "activation_online"),
])
def test_keyword_ranking_finds_the_topic(keywords, query, expected):
    ranked = keywords.rank(query)
    assert ranked and ranked[0].key == expected
    assert all(a.score >= b.score > 0 for a, b in zip(ranked, ranked[1:]))


def test_keyword_ranking_of_nothing_is_empty(keywords):
    assert keywords.rank("？？？ !!!") == []
    assert keywords.rank("的 吗 the") == []


def _parse(intent, ranking):
    return {"intent": {"name": intent, "confidence": 0.9},
            "response_selector": {"faq": {"ranking": [
                {"intent_response_key": f"faq/{key}", "confidence": confidence} for key, confidence in ranking]}}}


def test_model_ranking_maps_keys_to_topics_and_drops_noise():
    topics = knowledge_base.load()
    ranked = model_ranking(_parse("faq", [("reissue_documents", 0.9), ("no_such_topic", 0.05),
                                          ("reissue_process", 0.08), ("legal_basis", 0.001)]), topics)
    assert [(r.key, r.score) for r in ranked] == [("reissue_documents", 0.9), ("reissue_process", 0.08)]


@pytest.mark.parametrize("parse", [
    _parse("out_of_scope", [("reissue_documents", 0.99)]),
    _parse("nlu_fallback", [("reissue_documents", 0.99)]),
    _parse("faq", [("reissue_documents", 0.3), ("reissue_process", 0.3)]),  # unsure
    _parse("faq", []),
    {},
])
def test_model_ranking_declines_when_out_of_scope_or_unsure(parse):
    assert model_ranking(parse, knowledge_base.load()) is None


def test_language_guess():
    assert guess_language("补卡") == "zh" and guess_language("ID card 补卡") == "zh"
    assert guess_language("reissue") == "en" and guess_language("123") == "en"


class _Rasa:
    """Stands in for the Rasa client: a fixed parse result, or unreachable."""

    def __init__(self, parse_data=None):
        self.parse_data = parse_data

    async def parse(self, text):
        if self.parse_data is None:
            raise RasaUnavailable("down")
        return self.parse_data


@pytest.fixture(scope="module")
def topics():
    return knowledge_base.load()


async def test_a_confident_model_ranks_first_and_keywords_add_related_topics(topics):
    search = FaqSearch(_Rasa(_parse("faq", [("reissue_needs_activation", 0.97), ("why_reactivate", 0.02)])), topics)
    body = await search.search("补办的社保卡需要重新激活吗", None)
    methods = [r["method"] for r in body["results"]]
    keys = [r["key"] for r in body["results"]]
    assert body["method"] == "model" and body["fallback_reason"] is None
    assert keys[:2] == ["reissue_needs_activation", "why_reactivate"] and methods[:2] == ["model", "model"]
    assert set(methods[2:]) == {"keywords"} and len(keys) == len(set(keys)) <= 5


async def test_keywords_alone_when_the_model_declines_or_is_down(topics):
    unsure = await FaqSearch(_Rasa(_parse("out_of_scope", [("reissue_documents", 0.9)])), topics).search("补卡材料", "en")
    down = await FaqSearch(_Rasa(None), topics).search("补卡材料", None)
    assert (unsure["method"], unsure["fallback_reason"]) == ("keywords", "model_unsure")
    assert (down["method"], down["fallback_reason"]) == ("keywords", "model_unavailable")
    for body in (unsure, down):
        assert body["results"][0]["key"] == "reissue_documents"
        assert {r["method"] for r in body["results"]} == {"keywords"}
    assert [a["language"] for a in unsure["results"][0]["answers"]] == ["en", "zh"]
