from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.normalizer import TextNormalizer, normalize_text


def test_traditional_full_width_and_case_are_folded():
    assert normalize_text("補辦的社保卡需要重新激活嗎？") == "补办的社保卡需要重新激活吗?"
    assert normalize_text("ＡＰＰ怎麼開通") == "app怎么开通"
    assert normalize_text("Activate My CARD") == "activate my card"


def test_an_apostrophe_inside_a_word_is_dropped_as_citizens_often_drop_it():
    assert normalize_text("I can't remember my PIN") == normalize_text("i cant remember my pin")
    assert normalize_text("don\u2019t") == normalize_text("Don't") == "dont"  # a typographic one too
    # Quotes around words, and anything that is not between two letters, stay.
    assert normalize_text("'card' or x'") == "'card' or x'"


def test_button_payloads_are_left_verbatim():
    message = Message(data={"text": '/Inform{"name": "Zhang"}'})
    TextNormalizer().process([message])
    assert message.get("text") == '/Inform{"name": "Zhang"}'


def test_training_examples_are_normalised_like_messages():
    example = Message(data={"text": "補卡要帶什麼", "intent": "faq"})
    TextNormalizer().process_training_data(TrainingData([example]))
    assert example.get("text") == "补卡要带什么"
