"""Text normalisation before tokenisation, for training and prediction alike.

Citizens type traditional characters, full-width letters and digits, and mixed
case. Folding them all to one form (simplified, half-width, lower case) lets a
model trained on mostly simplified text understand the rest.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.text import normalize_text


# Registered as a tokenizer-type component so that Rasa also runs
# process_training_data on it when training (the recipe only does that for
# tokenizers and featurizers); it must stand before the real tokenizer.
@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False
)
class TextNormalizer(GraphComponent):
    """Rewrites each message's text to its normalised form."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TextNormalizer:
        return cls()

    def _normalize(self, messages: List[Message]) -> None:
        for message in messages:
            text = message.get(TEXT)
            # A button payload ("/intent{...}") is parsed verbatim by Rasa.
            if text and not text.startswith("/"):
                message.set(TEXT, normalize_text(text))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._normalize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._normalize(messages)
        return messages
