"""The web process's parts that need no server: signed chat ids, password
hashes, the history built from a tracker, the two FAQ rankings."""
from __future__ import annotations

import pytest

from bot.core import knowledge_base
from bot.web.faq_search import FaqSearch, KeywordIndex, guess_language, model_ranking, topic_view
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


@pytest.mark.parametrize("query,expected", [
    ("补卡要钱吗", "reissue_fee"),
    ("how much does a replacement card cost", "reissue_fee"),
    ("补卡要多久", "reissue_time"),
    ("what is the electronic social security card", "electronic_card"),
    ("社保卡可以在外地看病吗", "cross_region_use"),
    ("挂失后卡又找到了", "cancel_loss_report"),
    ("can I report the loss by phone", "loss_report_channels"),
    ("I forgot my card password", "password_reset"),
    ("is there a hotline I can call", "hotline_12333"),
])
def test_keyword_ranking_finds_the_new_topics(keywords, query, expected):
    assert keywords.rank(query)[0].key == expected


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


# --- the staff page's rendering of an answer (staff.js in Node with a minimal DOM) -----------------

# Just enough DOM for staff.js's lookup page: elements with children, text,
# attributes and listeners; fetch answers /api/staff/me, the tickets and the
# search with the JSON the test gives. Prints each result's text by class.
STAFF_PAGE_HARNESS = r"""
const fs = require("fs"), vm = require("vm");
const [script, language, searchJson] = process.argv.slice(1);  // node -e: no script path in argv
class Node {
  constructor(tag, text) { this.tagName = tag; this.children = []; this.attributes = {}; this.listeners = {};
                           this.own = text || ""; this.className = ""; this.value = ""; this.hidden = false;
                           this.parentNode = { hidden: false }; }
  get textContent() { return this.own + this.children.map((c) => c.textContent).join(""); }
  set textContent(v) { this.own = String(v); this.children = []; }
  appendChild(child) { this.children.push(child); child.parentNode = this; return child; }
  setAttribute(k, v) { this.attributes[k] = String(v); }
  getAttribute(k) { return k in this.attributes ? this.attributes[k] : null; }
  addEventListener(type, f) { (this.listeners[type] = this.listeners[type] || []).push(f); }
  querySelector() { return new Node("tbody"); }
  focus() {}
  byClass(name) { const found = this.className.split(" ").includes(name) ? [this] : [];
                  return found.concat(...this.children.map((c) => c.byClass(name))); }
}
const ids = {};
const document = {
  readyState: "complete", title: "社保卡知识库查询 · FAQ lookup", documentElement: {}, body: new Node("body"),
  getElementById: (id) => (ids[id] = ids[id] || new Node("div")),
  querySelectorAll: () => [], createElement: (tag) => new Node(tag), createTextNode: (text) => new Node("#text", text),
};
document.getElementById("staff-page");
const replies = { "/api/staff/me": { username: "counter1", csrf_token: "t" }, "/api/staff/tickets": { tickets: [] } };
const fetch = (path) => Promise.resolve({ status: 200, headers: { get: () => null }, json: () =>
  Promise.resolve(path.startsWith("/api/faq/search") ? JSON.parse(searchJson) : replies[path]) });
const context = { document, fetch, navigator: { languages: [language] }, window: { location: { assign() {} } },
                  setTimeout, Promise, console };
vm.runInNewContext(fs.readFileSync(script, "utf8"), context);
ids.q.value = "question";
ids["search-form"].listeners.submit[0]({ preventDefault() {} });
setTimeout(() => {
  const results = ids.results.children.map((item) => ({
    answers: item.byClass("st-answer").map((a) => ({
      text: a.byClass("st-answer-text")[0].textContent,
      legal: a.byClass("st-legal").map((n) => n.textContent),
      source: a.byClass("st-source").map((n) => n.textContent),
    })),
  }));
  process.stdout.write(JSON.stringify({ status: ids["search-status"].textContent, results }));
}, 50);
"""


def render_staff_results(body: dict, browser_language: str) -> dict:
    """What the staff page shows for a search's JSON, in a browser of that language."""
    import json
    import shutil
    import subprocess

    from bot.core.paths import ROOT

    node = shutil.which("node") or shutil.which("nodejs")
    assert node, "Node.js runs this test (the machines this project runs on have it: `apt-get install nodejs`)"
    result = subprocess.run([node, "-e", STAFF_PAGE_HARNESS, str(ROOT / "bot" / "web" / "static" / "staff.js"),
                             browser_language, json.dumps(body)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


async def test_the_json_of_a_search_carries_each_answers_source(topics):
    body = await FaqSearch(_Rasa(None), topics).search("补卡要多少钱", None)
    assert body["results"][0]["key"] == "reissue_fee"
    for result in body["results"]:
        for answer in result["answers"]:
            assert answer["source"] == topics[result["key"]].entry(answer["language"]).source


@pytest.mark.parametrize("browser_language,expected", [
    ("zh-CN", {"source_text": "来源：原始资料（补办社保卡问答原文）",
               "measures_article_16": "来源：《社会保障卡管理办法》第十六条",
               "national_service": "来源：全国统一公共服务（12333 热线、电子社保卡）",
               "general_practice": "来源：一般做法（非原始资料；细节以当地规定为准）"}),
    ("en-GB", {"source_text": "Source: the source text (the reissue FAQ article)",
               "measures_article_16": "Source: Article 16 of the Measures on the Administration of Social Security Cards",
               "national_service": "Source: a national public service (the 12333 hotline, the electronic card)",
               "general_practice": "Source: general practice (not in the source text; local rules decide the details)"}),
])
def test_the_staff_page_shows_each_answers_source_in_a_clerks_words(topics, browser_language, expected):
    assert set(expected) == set(knowledge_base.SOURCES)  # a new source needs its words on the page
    keys = {source: next(k for k, t in topics.items() if t.entry("zh").source == source)
            for source in knowledge_base.SOURCES}
    body = {"query": "q", "language": "zh", "method": "keywords", "fallback_reason": "model_unavailable",
            "results": [{"key": key, "score": 1.0, "method": "keywords",
                         "answers": topic_view(topics[key], ["zh", "en"])} for key in keys.values()]}
    shown = render_staff_results(body, browser_language)
    assert len(shown["results"]) == len(keys)
    for source, result in zip(keys, shown["results"]):
        assert [a["source"] for a in result["answers"]] == [[expected[source]]] * 2, source
        assert result["answers"][0]["text"] == topics[keys[source]].entry("zh").answer
    # What was there before stays: the legal reference under the answer that has one.
    legal = shown["results"][list(keys).index("measures_article_16")]["answers"][0]["legal"]
    assert legal and "第十六条" in legal[0]


def test_an_answer_without_a_source_shows_no_source_line(topics):
    answers = topic_view(topics["reissue_fee"], ["zh"])
    answers[0]["source"] = None
    body = {"query": "q", "language": "zh", "method": "keywords", "fallback_reason": None,
            "results": [{"key": "reissue_fee", "score": 1.0, "method": "keywords", "answers": answers}]}
    assert render_staff_results(body, "zh-CN")["results"][0]["answers"][0]["source"] == []
