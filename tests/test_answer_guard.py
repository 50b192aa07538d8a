"""The answer guard and its keyword ranker, in-process on hand-made parse results."""
from rasa.shared.nlu.training_data.message import Message

from bot.keywords import LabelRanker, terms
from bot.nlu.answer_guard import AnswerGuard
from bot.nlu.linear_classifier import LinearClassifier

EXAMPLES = [
    ("补办的社保卡需要重新激活吗", "faq/reissue_needs_activation"),
    ("补卡要激活吗", "faq/reissue_needs_activation"),
    ("补办社保卡要花钱吗", "faq/reissue_fee"),
    ("补卡要交钱吗", "faq/reissue_fee"),
    ("补卡收费吗", "faq/reissue_fee"),
    ("12333", "faq/hotline_12333"),
    ("12333是什么电话", "faq/hotline_12333"),
    ("再见", "goodbye"),
    ("拜拜", "goodbye"),
    ("养老金什么时候发", "out_of_scope"),
    ("does a reissued card need activation", "faq/reissue_needs_activation"),
    ("how much does a replacement card cost", "faq/reissue_fee"),
]
CONFIG = {"thresholds": {"faq": 0.6, "default": 0.7}, "agree_top_n": 1, "trust_above": 0.99}


def guard():
    return AnswerGuard(CONFIG, None, None, LabelRanker(EXAMPLES))


def parse(text, intent, confidence, key=None, response_confidence=1.0):
    data = {"text": text, "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": intent, "confidence": confidence}]}
    if key:
        data["response_selector"] = {"faq": {"response": {"intent_response_key": key,
                                                          "confidence": response_confidence}}}
    return Message(data=data)


def test_terms_are_words_and_character_pairs_after_normalisation():
    assert terms("補卡 APP 要錢嗎") == ["app", "补卡", "要钱", "钱吗"]
    assert terms("卡") == ["卡"]  # a lone character is all there is
    assert terms("12333") == ["12333"]


def test_the_ranker_ranks_the_label_whose_example_shares_most():
    ranking = LabelRanker(EXAMPLES).ranking("补卡要钱吗")
    assert ranking[0][0] == "faq/reissue_fee"
    assert LabelRanker(EXAMPLES).ranking("完全无关的话") == []


def _textbook_bm25(examples, text, k1=1.2, b=0.75):
    """BM25 as written in the books, example by example: what the ranker's arrays must give."""
    import math
    from collections import Counter

    documents = [Counter(terms(t)) for t, _ in examples]
    average = sum(sum(d.values()) for d in documents) / len(documents)
    best = {}
    for document, (_, label) in zip(documents, examples):
        length, score = sum(document.values()), 0.0
        for term in set(terms(text)) & set(document):
            held = sum(1 for d in documents if term in d)
            idf = math.log((len(documents) - held + 0.5) / (held + 0.5) + 1.0)
            count = document[term]
            score += idf * count * (k1 + 1) / (count + k1 * (1 - b + b * length / average))
        if score > 0:
            best[label] = max(best.get(label, 0.0), score)
    return best


def test_the_rankers_scores_are_bm25s_on_the_real_training_data():
    import random

    import pytest
    from bench.bm25_baseline import training_examples

    examples = training_examples()
    ranker = LabelRanker(examples)
    rng = random.Random(7)
    sample = [t for t, _ in rng.sample(examples, 25)] + ["补卡要钱吗", "what is 12333", "完全无关", "", "卡"]
    small = rng.sample(examples, 400)  # the textbook way is slow: scores over a sample of the examples
    for text in sample:
        assert LabelRanker(small).scores(text) == pytest.approx(_textbook_bm25(small, text), rel=1e-9)
        sharing = {label for example, label in examples if set(terms(text)) & set(terms(example))}
        assert set(ranker.scores(text)) == sharing
    assert LabelRanker([]).scores("补卡") == {}


def test_a_confident_answer_the_keywords_support_is_kept():
    message = parse("补卡要花钱吗", "faq", 0.95, "faq/reissue_fee", 0.9)
    guard().process([message])
    assert message.get("intent")["name"] == "faq"
    assert message.get("answer_guard") is None


def test_a_confident_answer_the_keywords_contradict_becomes_did_you_mean():
    # The "补卡要钱吗" -> the activation answer.
    message = parse("补卡要钱吗", "faq", 0.97, "faq/reissue_needs_activation", 0.95)
    guard().process([message])
    assert message.get("intent")["name"] == "nlu_fallback"
    assert message.get("intent_ranking")[0]["name"] == "nlu_fallback"
    assert message.get("intent_ranking")[1]["name"] == "faq"  # kept for the "did you mean" buttons
    assert message.get("answer_guard")["reason"] == "keywords_disagree"
    assert message.get("answer_guard")["declined"] == "faq/reissue_needs_activation"


def test_a_hotline_number_never_gets_goodbye():
    message = parse("12333", "goodbye", 0.9)
    guard().process([message])
    assert message.get("intent")["name"] == "faq"  # the hotline answer: it is trained word for word


def test_a_bare_number_nothing_supports_is_declined():
    message = parse("4567", "goodbye", 0.95)
    guard().process([message])
    assert message.get("intent")["name"] == "nlu_fallback"


def test_an_answer_below_its_kinds_threshold_is_declined():
    # intent x response confidence: 0.9 x 0.6 = 0.54 < 0.6
    message = parse("补卡要花钱吗", "faq", 0.9, "faq/reissue_fee", 0.6)
    guard().process([message])
    assert message.get("answer_guard")["reason"] == "low_confidence"


def test_a_model_surer_than_trust_above_is_not_second_guessed():
    message = parse("拜拜啦", "goodbye", 0.995)
    guard().process([message])
    assert message.get("intent")["name"] == "goodbye"


def test_a_word_of_the_assistants_own_topics_gets_did_you_mean_not_out_of_scope():
    message = parse("补卡", "out_of_scope", 0.9)
    guard().process([message])
    assert message.get("intent")["name"] == "nlu_fallback"
    assert message.get("answer_guard")["reason"] == "unclear"


def test_out_of_scope_fallback_and_button_payloads_are_left_alone():
    for message in (parse("养老金什么时候发放呢", "out_of_scope", 0.4), parse("随便", "nlu_fallback", 0.55),
                    parse("/activate_card", "activate_card", 1.0)):
        before = dict(message.get("intent"))
        guard().process([message])
        assert message.get("intent") == before


def test_a_message_that_is_exactly_a_training_example_gets_its_label():
    # The neural model called the bare "12333" out of scope (many bare numbers are).
    message = parse("12333", "out_of_scope", 0.98)
    guard().process([message])
    assert message.get("intent")["name"] == "faq"
    response = message.get("response_selector")["faq"]["response"]
    assert response["intent_response_key"] == "faq/hotline_12333"
    assert response["utter_action"] == "utter_faq/hotline_12333"  # what utter_faq sends
    assert message.get("answer_guard") == {"trained_label": "faq/hotline_12333"}
    # Punctuation, spaces, case and traditional characters aside, too.
    message = parse("再見！", "greet", 0.9)
    guard().process([message])
    assert message.get("intent")["name"] == "goodbye"


OUT_OF_SCOPE_EXAMPLES = [
    ("养老金什么时候发", "out_of_scope"), ("养老金每月几号到账", "out_of_scope"),
    ("养老金发放时间", "out_of_scope"), ("退休金什么时候发", "out_of_scope"),
    ("when is my pension paid", "out_of_scope"), ("pension payment date", "out_of_scope"),
]


def guard_with_second_opinion():
    examples = EXAMPLES + OUT_OF_SCOPE_EXAMPLES
    return AnswerGuard({**CONFIG, "linear_top_n": 1, "trust_above": 0.8}, None, None, LabelRanker(examples),
                       LinearClassifier.train(examples))


def test_the_linear_classifier_learns_the_labels_of_its_examples():
    linear = LinearClassifier.train(EXAMPLES + OUT_OF_SCOPE_EXAMPLES)
    assert linear.ranking("养老金几号发")[0][0] == "out_of_scope"
    assert linear.ranking("补卡收不收费")[0][0] == "faq/reissue_fee"
    assert LinearClassifier.train([("一", "a"), ("二", "a")]) is None  # one label: nothing to learn


def test_a_confident_answer_the_linear_classifier_calls_out_of_scope_is_declined():
    # A near miss sharing our words: the neural model is sure, the second opinion is not.
    message = parse("养老金几号发", "faq", 0.99, "faq/reissue_time", 0.99)
    guard_with_second_opinion().process([message])
    assert message.get("intent")["name"] == "nlu_fallback"
    assert message.get("answer_guard")["reason"] == "linear_out_of_scope"


def test_an_answer_outside_the_linear_classifiers_best_is_declined():
    message = parse("补卡收不收费", "faq", 0.99, "faq/reissue_needs_activation", 0.99)
    guard_with_second_opinion().process([message])
    assert message.get("answer_guard")["reason"] == "linear_disagrees"


def test_an_answer_both_opinions_share_is_kept():
    message = parse("补卡收不收费", "faq", 0.99, "faq/reissue_fee", 0.99)
    guard_with_second_opinion().process([message])
    assert message.get("intent")["name"] == "faq"
    assert message.get("answer_guard") is None


def test_the_linear_classifier_is_saved_and_loaded_with_the_model(tmp_path):
    linear = LinearClassifier.train(EXAMPLES + OUT_OF_SCOPE_EXAMPLES)
    linear.save(tmp_path)
    loaded = LinearClassifier.load(tmp_path)
    assert loaded.ranking("补卡收不收费") == linear.ranking("补卡收不收费")
    assert LinearClassifier.load(tmp_path / "missing") is None  # a model trained before it: no second opinion


NUMBER_EXAMPLES = [
    ("12333 what is it", "faq/hotline_12333"), ("what does 12333 do", "faq/hotline_12333"),
    ("is 12333 free to call", "faq/hotline_12333"), ("12333是干嘛的", "faq/hotline_12333"),
    ("what is 10086", "out_of_scope"), ("10086", "out_of_scope"), ("12306 ticket refund", "out_of_scope"),
    ("12306客服电话", "out_of_scope"), ("10086几点下班", "out_of_scope"),
]


def test_a_number_the_model_cannot_see_is_answered_when_both_opinions_and_the_selector_agree():
    # Rasa's CountVectorsFeaturizer makes every number "__NUMBER__": to DIET "what is 12333" is
    # "what is 10086", out of scope, at the same confidence. The second opinions see the digits.
    examples = EXAMPLES + OUT_OF_SCOPE_EXAMPLES + NUMBER_EXAMPLES
    number_guard = AnswerGuard({**CONFIG, "linear_top_n": 1, "trust_above": 0.8}, None, None,
                               LabelRanker(examples), LinearClassifier.train(examples))
    message = parse("what is 12333", "out_of_scope", 0.98, "faq/hotline_12333", 0.9)
    number_guard.process([message])
    assert message.get("intent")["name"] == "faq"
    assert message.get("response_selector")["faq"]["response"]["intent_response_key"] == "faq/hotline_12333"
    assert message.get("answer_guard") == {"number_label": "faq/hotline_12333"}
    # Another service's number stays out of scope, whatever the selector would have picked.
    for text in ("what is 10086", "12306客服电话是多少"):
        message = parse(text, "out_of_scope", 0.98, "faq/hotline_12333", 0.9)
        number_guard.process([message])
        assert message.get("intent")["name"] == "out_of_scope", text
    # No number: the model's out of scope stands.
    message = parse("养老金什么时候发放", "out_of_scope", 0.98, "faq/hotline_12333", 0.9)
    number_guard.process([message])
    assert message.get("intent")["name"] == "out_of_scope"
