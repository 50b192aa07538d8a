"""The knowledge base: every topic the issue names, in both languages, true to the source."""
import pytest
import yaml

from bot import knowledge_base
from bot.paths import ROOT

TOPICS = {
    "reissue_needs_activation", "why_reactivate", "card_number_change", "reissue_process",
    "reissue_documents", "activation_methods", "activation_counter", "activation_online",
    "activation_steps", "after_activation_use", "card_safekeeping", "abnormal_use",
    "protect_personal_info", "legal_basis",
}


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
    import re

    for topic in knowledge_base.load().values():
        for entry in topic.entries.values():
            assert not re.search(r"\d{5,}", entry.answer), topic.key
            assert not re.search(r"[¥￥]|\byuan\b|元", entry.answer), topic.key


def test_a_topic_missing_a_language_is_refused():
    document = {"responses": {"utter_faq/x": [{"text": "只有中文", "metadata": {"title": "t", "question": "q"}}]}}
    with pytest.raises(ValueError, match="no answer in"):
        knowledge_base.parse(document)
