"""bot/nlu/faq_labels.py: one DIET for the intents and the FAQ topics, read as Rasa's retrieval intent."""
from __future__ import annotations

import asyncio

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.faq_labels import RANKING_LENGTH, FaqTopicsAsIntents, FaqTopicsSplit, split


def diet_output(**confidences: float) -> Message:
    """A message as DIET leaves it (ranking_length 0: every label, best first)."""
    ranking = [{"id": n, "name": name.replace("__", "/"), "confidence": c}
               for n, (name, c) in enumerate(sorted(confidences.items(), key=lambda kv: -kv[1]))]
    message = Message(data={TEXT: "补卡要钱吗"})
    message.set(INTENT, dict(ranking[0]), add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
    return message


def test_the_topics_make_the_intent_faq_at_their_summed_confidence():
    # greet alone is DIET's best label, but the topics together outweigh it.
    message = diet_output(greet=0.4, faq__reissue_fee=0.3, faq__reissue_process=0.2, out_of_scope=0.1)
    split(message)
    assert message.get(INTENT)["name"] == "faq"
    assert message.get(INTENT)["confidence"] == pytest.approx(0.5)
    assert [(r["name"], round(r["confidence"], 6)) for r in message.get(INTENT_RANKING_KEY)] == [
        ("faq", 0.5), ("greet", 0.4), ("out_of_scope", 0.1)]
    selector = message.get("response_selector")
    assert selector["all_retrieval_intents"] == ["faq"]
    response = selector["faq"]["response"]
    assert response[INTENT_RESPONSE_KEY] == "faq/reissue_fee"
    assert response["utter_action"] == "utter_faq/reissue_fee"
    # The topic's confidence given "faq": intent x topic is DIET's own 0.3.
    assert response["confidence"] == pytest.approx(0.6)
    assert message.get(INTENT)["confidence"] * response["confidence"] == pytest.approx(0.3)
    assert [(r[INTENT_RESPONSE_KEY], round(r["confidence"], 6)) for r in selector["faq"]["ranking"]] == [
        ("faq/reissue_fee", 0.6), ("faq/reissue_process", 0.4)]


def test_an_intent_ahead_of_all_the_topics_stays_the_intent_with_the_topics_ranked_below_it():
    message = diet_output(goodbye=0.7, faq__hotline_12333=0.2, faq__reissue_fee=0.1)
    split(message)
    assert message.get(INTENT)["name"] == "goodbye"
    assert message.get(INTENT)["confidence"] == pytest.approx(0.7)
    assert message.get(INTENT_RANKING_KEY)[1]["name"] == "faq"
    # What "did you mean" and the answer guard read: the best topic, even where "faq" lost.
    assert message.get("response_selector")["faq"]["response"][INTENT_RESPONSE_KEY] == "faq/hotline_12333"


def test_rankings_keep_as_many_as_rasas_did():
    message = diet_output(**{f"faq__topic_{n}": 0.02 + n / 1000 for n in range(15)},
                          **{f"intent_{n}": 0.01 + n / 1000 for n in range(15)})
    split(message)
    assert len(message.get(INTENT_RANKING_KEY)) == RANKING_LENGTH
    ranking = message.get("response_selector")["faq"]["ranking"]
    assert len(ranking) == RANKING_LENGTH
    assert ranking[0][INTENT_RESPONSE_KEY] == "faq/topic_14"
    assert not any(r["name"].startswith("faq/") for r in message.get(INTENT_RANKING_KEY))


def test_without_topics_the_message_gets_no_response_selector():
    message = diet_output(greet=0.9, goodbye=0.1)
    split(message)
    assert message.get(INTENT)["name"] == "greet"
    assert message.get("response_selector") is None


def test_a_message_without_a_ranking_is_left_without_an_intent():
    message = Message(data={TEXT: ""})
    FaqTopicsSplit().process([message])
    assert message.get(INTENT) is None and message.get(INTENT_RANKING_KEY) == []


def test_in_training_each_faq_example_is_labelled_with_its_topic():
    faq = Message(data={TEXT: "补卡要钱吗", INTENT: "faq", INTENT_RESPONSE_KEY: "faq/reissue_fee"})
    greet = Message(data={TEXT: "你好", INTENT: "greet"})
    response_only = Message(data={"response": "需要", INTENT_RESPONSE_KEY: "faq/reissue_fee"})
    data = TrainingData([faq, greet, response_only])
    assert data.intents == {"faq", "greet"}  # read before: TrainingData caches it
    processed = FaqTopicsAsIntents().process_training_data(data)
    assert processed is data
    assert [m.get(INTENT) for m in data.training_examples] == ["faq/reissue_fee", "greet", None]
    assert data.intents == {"faq/reissue_fee", "greet"}
    # Everything else reads the topic as before: get_full_intent, the response key.
    assert faq.get_full_intent() == "faq/reissue_fee" and faq.get(INTENT_RESPONSE_KEY) == "faq/reissue_fee"
    # At prediction the component does nothing.
    message = Message(data={TEXT: "补卡要钱吗"})
    assert FaqTopicsAsIntents().process([message]) == [message] and message.get(INTENT) is None


@pytest.mark.model
def test_the_trained_model_is_one_diet_over_intents_and_topics():
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier

    from bench.evaluation import load_agent
    from bot.core import knowledge_base
    from tests.support.product import MODEL

    agent = load_agent(str(MODEL))
    components = [node._component for node in agent.processor.graph_runner._instantiated_nodes.values()
                  if hasattr(node, "_component")]
    assert not any(type(c).__name__ == "ResponseSelector" for c in components)
    (diet,) = [c for c in components if isinstance(c, DIETClassifier)]
    labels = set(diet.index_label_id_mapping.values())
    assert {f"faq/{key}" for key in knowledge_base.load()} <= labels
    assert "faq" not in labels and {"greet", "out_of_scope"} <= labels

    parse = asyncio.run(agent.parse_message("补办社保卡要交钱吗"))
    assert parse["intent"]["name"] == "faq"
    assert parse["response_selector"]["faq"]["response"][INTENT_RESPONSE_KEY] == "faq/reissue_fee"
    assert [r["name"] for r in parse["intent_ranking"]].count("faq") == 1
    assert sum(r["confidence"] for r in parse["response_selector"]["faq"]["ranking"]) <= 1 + 1e-6
