"""The answer guard: no confident answer that nothing but the model supports.

Runs last in the NLU pipeline, after the FallbackClassifier. The neural
classifier (DIET, over the intents and FAQ topics: bot/nlu/faq_labels.py)
always picks *some* label, and on a question it was never trained for it can
pick one with high confidence: "12333" became goodbye, "补卡要钱吗" the activation answer. A
government helpdesk's wrong answer is worse than "did you mean ...?", so a
label is kept only when

- its confidence clears the threshold of its kind of decision (an FAQ answer
  counts its topic's: the intent's confidence times the topic's given it), and
- a second, linear classifier of the same labels (bot/nlu/linear_classifier.py)
  does not call the message out of scope and has the label among its
  `linear_top_n` best, and
- an independent keyword ranker (BM25 over the same training examples,
  bot/keywords.py) has that label among its `agree_top_n` best, unless the
  model is surer than `trust_above`.

Otherwise the message becomes `nlu_fallback` as the FallbackClassifier makes
it (the original ranking kept, so "did you mean" offers the likely topics).
Out-of-scope predictions are kept, declining being always safe, except that
a word or two of the assistant's own topics ("补办") becomes "did you mean"
too. The parse result says why under `answer_guard`.

One thing the guard does instead of declining: a message that is exactly a
training example (after normalisation, punctuation and spaces aside) gets
that example's label. The neural model generalises away from single
examples: the bare "12333", trained as the hotline question, came out
out-of-scope among the many other bare numbers that are.

And one thing the model cannot see: Rasa's CountVectorsFeaturizer folds every
number into one token (`__NUMBER__`), so "what is 12333" and "what is 10086"
are the same message to DIET (both out of scope, with the same confidence).
The two second opinions see the digits: where the model calls a message with
a number out of scope and the linear classifier, the keyword ranker and the
model's best topic all put the same FAQ first, that FAQ is answered.
"""
from __future__ import annotations

import json
import re
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

from bot.keywords import LabelRanker, terms
from bot.nlu.faq_labels import RESPONSE_SELECTOR, RETRIEVAL_INTENT, selected_topic
from bot.nlu.linear_classifier import LinearClassifier
from bot.text import normalize_text

FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
GUARD_KEY = "answer_guard"
EXAMPLES_FILE = "examples.json"
_NOT_WORDS = re.compile(r"[\W_]+")
_NUMBER = re.compile(r"\d{3,}")  # a service number, a year; after normalisation (full-width folded)


def exact_key(text: str) -> str:
    return _NOT_WORDS.sub("", normalize_text(text or ""))


def predicted(message: Message) -> Tuple[Optional[str], float]:
    """The label the message would be answered with, and the model's confidence in it."""
    intent = message.get(INTENT) or {}
    name = intent.get(INTENT_NAME_KEY)
    confidence = float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
    if name != RETRIEVAL_INTENT:
        return name, confidence
    selector = (message.get(RESPONSE_SELECTOR) or {}).get(RETRIEVAL_INTENT) or {}
    response = selector.get("response") or {}
    key = response.get("intent_response_key")
    return key or name, confidence * float(response.get("confidence") or 0.0)


def _choose(message: Message, label: str, confidence: float, why: Dict[str, str]) -> None:
    """Answer the message with `label` ("faq/<key>" or an intent), at `confidence`."""
    intent, _, key = label.partition("/")
    chosen = {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: confidence}
    message.set(INTENT, chosen, add_to_output=True)
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != intent]
    message.set(INTENT_RANKING_KEY, [chosen] + ranking, add_to_output=True)
    if key:
        selectors = dict(message.get(RESPONSE_SELECTOR) or {})
        selector = dict(selectors.get(RETRIEVAL_INTENT) or {})
        selector["response"] = selected_topic(label, confidence)
        selectors[RETRIEVAL_INTENT] = selector
        message.set(RESPONSE_SELECTOR, selectors, add_to_output=True)
    message.set(GUARD_KEY, why, add_to_output=True)


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
            # 0: no linear second opinion
            "linear_top_n": 3,
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 ranker: Optional[LabelRanker] = None, linear: Optional[LinearClassifier] = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self.model_storage, self.resource = model_storage, resource
        self.linear = linear if self.config["linear_top_n"] else None
        self._use(ranker)

    def _use(self, ranker: Optional[LabelRanker]) -> None:
        self.ranker = ranker
        self.exact = {exact_key(text): label for text, label in (ranker.to_examples() if ranker else [])}
        self.exact.pop("", None)  # "?", "。": nothing left to match on

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
        self.linear = LinearClassifier.train(examples) if self.config["linear_top_n"] else None
        with self.model_storage.write_to(self.resource) as directory:
            (directory / EXAMPLES_FILE).write_text(json.dumps(examples, ensure_ascii=False), encoding="utf-8")
            if self.linear is not None:
                self.linear.save(directory)
        self._use(LabelRanker(examples))
        return self.resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> AnswerGuard:
        with model_storage.read_from(resource) as directory:
            examples = json.loads((directory / EXAMPLES_FILE).read_text(encoding="utf-8"))
            linear = LinearClassifier.load(directory)
        return cls(config, model_storage, resource, LabelRanker.from_examples(examples), linear)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if self.use_trained_label(message) or self.use_number_label(message):
                continue
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

    def _unclear(self, text: str) -> bool:
        """A word or two of the assistant's own topics ("补办", "activation"): "did you mean"
        with those topics serves better than "not something I cover"."""
        if text.startswith("/") or len(terms(text)) > 2:
            return False
        ranking = self.ranker.ranking(text)
        return bool(ranking) and ranking[0][0] != OUT_OF_SCOPE

    def use_trained_label(self, message: Message) -> bool:
        """A message that is exactly a training example gets its label; True if it was changed."""
        text = message.get(TEXT) or ""
        label = self.exact.get(exact_key(text)) if not text.startswith("/") else None
        if label is None or label == predicted(message)[0]:
            return False
        _choose(message, label, 1.0, {"trained_label": label})
        return True

    def use_number_label(self, message: Message) -> bool:
        """A message with a number the model called out of scope gets the FAQ that the linear
        classifier, the keyword ranker and the model's best topic all rank first (see the module's
        docstring); True if it was changed."""
        text = message.get(TEXT) or ""
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        if intent != OUT_OF_SCOPE or self.linear is None or self.ranker is None or text.startswith("/"):
            return False
        if not _NUMBER.search(normalize_text(text)):
            return False
        response = ((message.get(RESPONSE_SELECTOR) or {}).get(RETRIEVAL_INTENT) or {}).get("response") or {}
        selected = response.get("intent_response_key")
        if not selected or not selected.startswith(RETRIEVAL_INTENT + "/"):
            return False
        keywords = self.ranker.ranking(text)
        if not keywords or not self.linear.ranking(text)[0][0] == keywords[0][0] == selected:
            return False
        _choose(message, selected, float(response.get("confidence") or 0.0), {"number_label": selected})
        return True

    def objection(self, message: Message) -> Optional[str]:
        """Why the model's label must not be used as it is; None when it may."""
        text = message.get(TEXT) or ""
        label, confidence = predicted(message)
        if label == OUT_OF_SCOPE and self.ranker is not None and self._unclear(text):
            return "unclear"
        if not label or label in (FALLBACK, OUT_OF_SCOPE) or text.startswith("/") or self.ranker is None:
            return None  # declining already, or a button's payload: nothing to guard
        kind = label.split("/", 1)[0]
        thresholds = self.config["thresholds"]
        if confidence < thresholds.get(kind, thresholds["default"]):
            return "low_confidence"
        if self.linear is not None:
            second = [name for name, _ in self.linear.ranking(text)[: self.config["linear_top_n"]]]
            if second[0] == OUT_OF_SCOPE:
                return "linear_out_of_scope"
            if label not in second:
                return "linear_disagrees"
        if confidence > self.config["trust_above"]:
            return None
        top = [name for name, _ in self.ranker.ranking(text)[: self.config["agree_top_n"]]]
        if label not in top:
            return "keywords_disagree"
        return None
