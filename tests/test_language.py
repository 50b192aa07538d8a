"""The language detector decides which language every reply is in."""
import pytest

from bot.nlu.language import LanguageDetector, detect_language
from rasa.shared.nlu.training_data.message import Message


@pytest.mark.parametrize(
    "text, language",
    [
        ("补办的社保卡需要重新激活吗?", "zh"),
        ("補辦的社保卡需要重新激活嗎", "zh"),  # traditional characters
        ("社保卡 app 怎么激活", "zh"),  # a few English words in a Chinese sentence
        ("Does my reissued card need to be activated?", "en"),
        ("does my new shebao card need activation", "en"),
        ("how do i activate my 社保卡", "en"),  # a Chinese word in an English sentence
        ("ＨＥＬＬＯ there", "en"),  # full-width letters
        ("hello", "en"),
    ],
)
def test_clear_languages_are_detected(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize(
    "text",
    ["", "   ", "ok", "OK", "1", "110105194912310021", "👍", "/human_handoff", '/faq{"a": "b"}', "?!"],
)
def test_unclear_messages_keep_the_conversation_language(text):
    assert detect_language(text) is None


def test_component_adds_one_language_entity_spanning_the_message():
    message = Message(data={"text": "Does my card need activation?"})
    message.set("entities", [{"entity": "language", "value": "zh"}, {"entity": "other", "value": "x"}])
    LanguageDetector().process([message])
    entities = message.get("entities")
    assert {"entity": "other", "value": "x"} in entities
    language = [e for e in entities if e["entity"] == "language"]
    assert language == [
        {
            "entity": "language",
            "value": "en",
            "start": 0,
            "end": len("Does my card need activation?"),
            "confidence": 1.0,
            "extractor": "LanguageDetector",
        }
    ]


def test_component_leaves_unclear_messages_without_entity():
    message = Message(data={"text": "ok"})
    LanguageDetector().process([message])
    assert not message.get("entities")
