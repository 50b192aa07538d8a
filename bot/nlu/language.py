"""Language detection: which language (zh or en) a user message is written in.

The detector adds an entity `language` to every message whose language is clear;
the `language` slot is filled from that entity (domain.yml), and every response
has a zh and an en variation conditioned on the slot. A message whose language
is not clear (digits, an ID number, "ok", an emoji, a button payload such as
"/human_handoff") adds nothing, so the slot keeps the conversation's language.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

LANGUAGE_ENTITY = "language"
ZH, EN = "zh", "en"

# CJK unified ideographs (with extension A) and the compatibility block: both
# simplified and traditional characters count as Chinese.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z\uff21-\uff3a\uff41-\uff5a]{2,}")
# Latin words a Chinese speaker uses as often as an English one: they alone
# must not switch a Chinese conversation to English.
_NEUTRAL_WORDS = frozenset({"ok", "okay", "okk", "app", "id", "sms", "pin", "qq", "hi"})


def detect_language(text: Text) -> Optional[Text]:
    """Returns "zh", "en", or None when the text does not say which."""
    text = (text or "").strip()
    if not text or text.startswith("/"):  # empty, or a button payload
        return None
    han = len(_HAN.findall(text))
    words = [w.lower() for w in _LATIN_WORD.findall(text)]
    if han == 0:
        if not words or all(w in _NEUTRAL_WORDS for w in words):
            return None
        return EN
    # Mixed text: a few English words inside a Chinese sentence ("社保卡 app
    # 怎么激活") stay Chinese; a few characters in an English one stay English.
    return ZH if han >= len(words) else EN


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
