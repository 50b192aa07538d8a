"""The knowledge base: every topic the issues name, in both languages, true to the source."""
import re

import pytest
import yaml

from bot.core import knowledge_base
from bot.core.paths import ROOT

TOPICS = {
    "reissue_needs_activation", "why_reactivate", "card_number_change", "reissue_process",
    "reissue_documents", "activation_methods", "activation_counter", "activation_online",
    "activation_steps", "after_activation_use", "card_safekeeping", "abnormal_use",
    "protect_personal_info", "legal_basis",
    # issue 10: what citizens actually ask
    "reissue_fee", "reissue_time", "loss_report_channels", "cancel_loss_report", "electronic_card",
    "password_reset", "card_expiry_renewal", "change_bank", "cross_region_use", "child_card",
    "apply_on_behalf", "hotline_12333", "first_application",
}
NEW_TOPICS = TOPICS - {
    "reissue_needs_activation", "why_reactivate", "card_number_change", "reissue_process",
    "reissue_documents", "activation_methods", "activation_counter", "activation_online",
    "activation_steps", "after_activation_use", "card_safekeeping", "abnormal_use",
    "protect_personal_info", "legal_basis",
}
LOSS_REPORT_OFFER = {"zh": "我可以帮您办理临时挂失，说“挂失”即可",
                     "en": "I can file a temporary loss report for you: just say “report it lost”"}


def test_exactly_the_agreed_topics_with_both_languages():
    topics = knowledge_base.load()
    assert set(topics) == TOPICS
    for topic in topics.values():
        assert set(topic.entries) == {"zh", "en"}
        for entry in topic.entries.values():
            assert entry.title and entry.question and len(entry.answer) > 40


def test_every_topic_has_training_examples_in_both_languages():
    for language in ("zh", "en"):
        document = yaml.safe_load((ROOT / "data" / "nlu" / f"faq_{language}.yml").read_text())
        keys = {block["intent"].split("/", 1)[1] for block in document["nlu"]}
        assert keys == TOPICS, language


def test_answers_agree_with_the_source_text():
    topics = knowledge_base.load()
    assert topics["reissue_needs_activation"].entry("zh").answer.startswith("需要")
    assert topics["reissue_needs_activation"].entry("en").answer.startswith("Yes")
    legal_zh = topics["legal_basis"].entry("zh")
    assert "第十六条" in legal_zh.answer and "《社会保障卡管理办法》" in legal_zh.answer
    for item in ("（一）", "（二）", "（三）", "（四）", "（五）"):
        assert item in legal_zh.answer
    assert "Article 16" in topics["legal_basis"].entry("en").answer
    assert topics["legal_basis"].entry("en").legal_ref


def test_no_invented_phone_numbers_or_fees():
    for topic in knowledge_base.load().values():
        for entry in topic.entries.values():
            # 12333, the national hotline, is the one number an answer may give.
            other_numbers = re.sub(r"(?<!\d)12333(?!\d)", "", entry.answer)
            assert not re.search(r"\d{4,}", other_numbers), topic.key
            assert not re.search(r"[¥￥]|\byuan\b|\bRMB\b|元", entry.answer), topic.key


def test_every_topic_records_a_valid_source_in_both_languages():
    topics = knowledge_base.load()
    for topic in topics.values():
        assert {e.source for e in topic.entries.values()} <= set(knowledge_base.SOURCES), topic.key
        assert topic.entry("zh").source == topic.entry("en").source, topic.key
    assert topics["reissue_needs_activation"].entry("zh").source == "source_text"
    assert topics["legal_basis"].entry("en").source == "measures_article_16"
    assert topics["hotline_12333"].entry("zh").source == "national_service"
    assert topics["reissue_fee"].entry("en").source == "general_practice"


@pytest.mark.parametrize("source", [None, "", "a blog", "Source_Text"])
def test_a_variation_without_a_known_source_is_refused(source):
    meta = {"title": "t", "question": "q"}
    if source is not None:
        meta["source"] = source
    document = {"responses": {"utter_faq/x": [
        {"text": "中文", "metadata": dict(meta)},
        {"text": "English", "metadata": dict(meta), "condition": [{"type": "slot", "name": "language", "value": "en"}]},
    ]}}
    with pytest.raises(ValueError, match="source"):
        knowledge_base.parse(document)


def test_new_answers_fit_a_phone_screen():
    topics = knowledge_base.load()
    for key in NEW_TOPICS:
        assert 60 <= len(topics[key].entry("zh").answer) <= 160, key
        assert 40 <= len(topics[key].entry("en").answer.split()) <= 110, key


@pytest.mark.parametrize("key", sorted({"reissue_fee", "reissue_time", "card_expiry_renewal", "change_bank",
                                        "child_card", "apply_on_behalf", "first_application", "password_reset",
                                        "cancel_loss_report", "cross_region_use"}))
def test_local_rules_are_said_to_be_local_with_where_to_ask(key):
    topic = knowledge_base.load()[key]
    zh, en = topic.entry("zh").answer, topic.entry("en").answer
    assert "当地" in zh or "各地" in zh, key
    assert "local" in en, key
    assert "12333" in zh and "12333" in en, key


def test_answers_offer_the_task_the_bot_can_do():
    topics = knowledge_base.load()
    for key in ("loss_report_channels", "cancel_loss_report"):
        for language, offer in LOSS_REPORT_OFFER.items():
            assert offer in topics[key].entry(language).answer, (key, language)
    assert "查补卡进度" in topics["reissue_time"].entry("zh").answer
    assert "progress" in topics["reissue_time"].entry("en").answer


def test_the_password_answer_refuses_passwords_and_does_not_offer_activation():
    entry_zh, entry_en = (knowledge_base.load()["password_reset"].entry(lang) for lang in ("zh", "en"))
    assert "不会索要" in entry_zh.answer and "never asks for or accepts a password" in entry_en.answer
    assert "激活" not in entry_zh.answer and "activat" not in entry_en.answer.lower()


def test_national_facts_where_the_issue_gives_them():
    topics = knowledge_base.load()
    electronic = topics["electronic_card"]
    assert "掌上12333" in electronic.entry("zh").answer and "掌上12333" in electronic.entry("en").answer
    assert "实体社保卡" in electronic.entry("zh").answer and "physical card" in electronic.entry("en").answer
    assert "全国人力资源和社会保障" in topics["hotline_12333"].entry("zh").answer
    cross_zh, cross_en = topics["cross_region_use"].entry("zh").answer, topics["cross_region_use"].entry("en").answer
    assert "备案" in cross_zh and "不解答" in cross_zh and "does not cover" in cross_en
    assert "临时挂失" in topics["cancel_loss_report"].entry("zh").answer


def test_a_topic_missing_a_language_is_refused():
    document = {"responses": {"utter_faq/x": [{"text": "只有中文", "metadata": {"title": "t", "question": "q", "source": "source_text"}}]}}
    with pytest.raises(ValueError, match="no answer in"):
        knowledge_base.parse(document)
