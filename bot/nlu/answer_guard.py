"""The answer guard: no confident answer that nothing but the model supports.

Runs last in the NLU pipeline, after the FallbackClassifier. The neural
classifiers (DIET, the FAQ response selector) always pick *some* label, and
on a question they were never trained for they can pick one with high
confidence: "12333" became goodbye, "补卡要钱吗" the activation answer. A
government helpdesk's wrong answer is worse than "did you mean ...?", so a
label is kept only when

- its confidence clears the threshold of its kind of decision (an FAQ answer
  counts the intent's confidence times the response selector's), and
- an independent keyword ranker (BM25 over the same training examples,
  bot/keywords.py) has that label among its `agree_top_n` best, unless the
  model is surer than `trust_above`.

Otherwise the message becomes `nlu_fallback` as the FallbackClassifier makes
it (the original ranking kept, so "did you mean" offers the likely topics).
Out-of-scope predictions are never touched: declining is always safe. The
parse result says why under `answer_guard`.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.keywords import LabelRanker

FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
RETRIEVAL_INTENT = "faq"
GUARD_KEY = "answer_guard"
EXAMPLES_FILE = "examples.json"


def predicted(message: Message) -> Tuple[Optional[str], float]:
    """The label the message would be answered with, and the model's confidence in it."""
    intent = message.get(INTENT) or {}
    name = intent.get(INTENT_NAME_KEY)
    confidence = float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
    if name != RETRIEVAL_INTENT:
        return name, confidence
    selector = (message.get("response_selector") or {}).get(RETRIEVAL_INTENT) or {}
    response = selector.get("response") or {}
    key = response.get("intent_response_key")
    return key or name, confidence * float(response.get("confidence") or 0.0)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class AnswerGuard(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # minimum confidence per kind of decision; `default` for the rest
            "thresholds": {"faq": 0.5, "default": 0.55},
            "agree_top_n": 3,
            "trust_above": 0.99,
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 ranker: Optional[LabelRanker] = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self.model_storage, self.resource = model_storage, resource
        self.ranker = ranker

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> AnswerGuard:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = []
        for message in training_data.intent_examples:
            label = message.get_full_intent()  # "faq/<key>" for a retrieval intent's example
            if message.get(TEXT) and label:
                examples.append((message.get(TEXT), label))
        with self.model_storage.write_to(self.resource) as directory:
            (directory / EXAMPLES_FILE).write_text(json.dumps(examples, ensure_ascii=False), encoding="utf-8")
        self.ranker = LabelRanker(examples)
        return self.resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> AnswerGuard:
        with model_storage.read_from(resource) as directory:
            examples = json.loads((directory / EXAMPLES_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, LabelRanker.from_examples(examples))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            reason = self.objection(message)
            if reason is None:
                continue
            label, confidence = predicted(message)
            message.set(GUARD_KEY, {"declined": label, "confidence": round(confidence, 4), "reason": reason},
                        add_to_output=True)
            fallback = {INTENT_NAME_KEY: FALLBACK, PREDICTED_CONFIDENCE_KEY: confidence}
            message.set(INTENT, fallback, add_to_output=True)
            ranking = message.get(INTENT_RANKING_KEY) or []
            message.set(INTENT_RANKING_KEY, [fallback] + [r for r in ranking if r.get(INTENT_NAME_KEY) != FALLBACK],
                        add_to_output=True)
        return messages

    def objection(self, message: Message) -> Optional[str]:
        """Why the model's label must not be used as it is; None when it may."""
        text = message.get(TEXT) or ""
        label, confidence = predicted(message)
        if not label or label in (FALLBACK, OUT_OF_SCOPE) or text.startswith("/") or self.ranker is None:
            return None  # declining already, or a button's payload: nothing to guard
        kind = label.split("/", 1)[0]
        thresholds = self.config["thresholds"]
        if confidence < thresholds.get(kind, thresholds["default"]):
            return "low_confidence"
        if confidence > self.config["trust_above"]:
            return None
        top = [name for name, _ in self.ranker.ranking(text)[: self.config["agree_top_n"]]]
        if label not in top:
            return "keywords_disagree"
        return None
