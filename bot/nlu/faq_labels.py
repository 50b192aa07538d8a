"""One classifier for intents and FAQ topics: DIET learns "faq/<key>" as labels of their own.

Rasa's way with a retrieval intent is two models: DIET tells "faq" from the
other intents, a ResponseSelector then tells the FAQ topics apart. Here DIET
learns every topic as a label beside the intents (`FaqTopicsAsIntents`, before
the tokenizer, so the topic is what gets tokenized and featurized as the
label), and `FaqTopicsSplit`, after DIET, gives its prediction the shape the
two models gave, which the rest of Rasa and of this project read:

- the intent "faq" at the sum of the topics' confidences, ranked among the
  other intents (so the FallbackClassifier's threshold and ambiguity check see
  what they saw), and
- under `response_selector["faq"]` the best topic and a ranking of topics at
  their confidence *given* "faq" (confidence / that sum), as the response
  selector ranked them; intent x topic confidence is the topic's own.

One model instead of two: the response selector's training (about a third of
`make train`) and its share of every message's prediction are gone.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, INTENT_RESPONSE_KEY, PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

RETRIEVAL_INTENT = "faq"
RESPONSE_SELECTOR = "response_selector"
# As many topics as Rasa's ResponseSelector ranked (its ranking_length), and intents as DIET ranks.
RANKING_LENGTH = 10
# TrainingData's cached views of the labels (rasa.shared.utils.common.lazy_property), stale once
# the examples' intents change.
_LABEL_VIEWS = ("_lazy_intents", "_lazy_number_of_examples_per_intent", "_lazy_retrieval_intents")


class _Stateless(GraphComponent):
    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> GraphComponent:
        return cls()


# A tokenizer-type component, so that Rasa runs its process_training_data when training (the
# recipe does that only for tokenizers and featurizers); it must stand before the tokenizer.
@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class FaqTopicsAsIntents(_Stateless):
    """In training, each FAQ example's intent becomes its topic ("faq/reissue_fee")."""

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            topic = message.get(INTENT_RESPONSE_KEY)
            if topic and message.get(INTENT) == topic.split("/", 1)[0]:
                message.set(INTENT, topic)
        for view in _LABEL_VIEWS:
            training_data.__dict__.pop(view, None)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        return messages


def selected_topic(topic: Text, confidence: float) -> Dict[Text, Any]:
    """`response_selector[faq]["response"]`, as Rasa's ResponseSelector gave it (the answer's
    text comes from the domain's `utter_<topic>` responses, so none are carried here)."""
    return {"responses": [], PREDICTED_CONFIDENCE_KEY: confidence, INTENT_RESPONSE_KEY: topic,
            "utter_action": f"utter_{topic}"}


def split(message: Message) -> None:
    """DIET's "faq/<key>" prediction as the intent "faq" and a response selector's output."""
    ranking = message.get(INTENT_RANKING_KEY) or []
    prefix = RETRIEVAL_INTENT + "/"
    topics = [r for r in ranking if r[INTENT_NAME_KEY].startswith(prefix)]
    intents = [r for r in ranking if not r[INTENT_NAME_KEY].startswith(prefix)]
    if topics:
        total = sum(r[PREDICTED_CONFIDENCE_KEY] for r in topics)
        intents.append({"id": topics[0].get("id"), INTENT_NAME_KEY: RETRIEVAL_INTENT,
                        PREDICTED_CONFIDENCE_KEY: total})
        intents.sort(key=lambda r: r[PREDICTED_CONFIDENCE_KEY], reverse=True)
        given = [{"id": r.get("id"), PREDICTED_CONFIDENCE_KEY: r[PREDICTED_CONFIDENCE_KEY] / total if total else 0.0,
                  INTENT_RESPONSE_KEY: r[INTENT_NAME_KEY]} for r in topics[:RANKING_LENGTH]]
        best = given[0]
        selectors = dict(message.get(RESPONSE_SELECTOR) or {})
        selectors["all_retrieval_intents"] = [RETRIEVAL_INTENT]
        selectors[RETRIEVAL_INTENT] = {
            "response": selected_topic(best[INTENT_RESPONSE_KEY], best[PREDICTED_CONFIDENCE_KEY]),
            "ranking": given,
        }
        message.set(RESPONSE_SELECTOR, selectors, add_to_output=True)
    intents = intents[:RANKING_LENGTH]
    if intents:
        message.set(INTENT, dict(intents[0]), add_to_output=True)
    message.set(INTENT_RANKING_KEY, intents, add_to_output=True)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class FaqTopicsSplit(_Stateless):
    """After DIET: its topic prediction in the two models' shape (the module's docstring)."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            split(message)
        return messages
