"""Language detection: which language (zh or en) a user message is written in.

The detector adds an entity `language` to every message whose language is clear;
the `language` slot is filled from that entity (domain.yml), and every response
has a zh and an en variation conditioned on the slot. A message whose language
is not clear (digits, an ID number, "ok", an emoji, a button payload such as
"/human_handoff") adds nothing, so the slot keeps the conversation's language.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.text import detect_language

LANGUAGE_ENTITY = "language"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False
)
class LanguageDetector(GraphComponent):
    """Adds the `language` entity (zh / en) to messages whose language is clear."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            language = detect_language(text)
            if language is None:
                continue
            entities = [
                e for e in message.get(ENTITIES, []) if e.get("entity") != LANGUAGE_ENTITY
            ]
            # The entity spans the whole message: it describes the message, not a word.
            entities.append(
                {
                    "entity": LANGUAGE_ENTITY,
                    "value": language,
                    "start": 0,
                    "end": len(text),
                    "confidence": 1.0,
                    "extractor": self.__class__.__name__,
                }
            )
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
