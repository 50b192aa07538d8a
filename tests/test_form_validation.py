"""verify_identity_form never swallows a question (in-process, on rasa_sdk's
own Tracker, as rasa-sdk's tests do): what the validator says and which slots
it returns for a message typed at the name, ID-number and code prompts."""
import pytest
from rasa_sdk.events import BotUttered
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ActionAskHolderName, ActionAskIdNumber
from actions.messages import text as message_text
from bot.privacy import sealed
from tests.support import identity_form
from tests.support.identity_form import DOMAIN, SENDER, SLOTS, tracker, validate

seal_key = identity_form.seal_key  # the autouse fixture


# --- questions, thanks, greetings at each prompt ------------------------------------------

NOT_A_NAME = [
    ("how long does it take to get a new card", "en"), ("谢谢", "zh"), ("你好", "zh"), ("好的", "zh"),
    ("thanks", "en"), ("hello", "en"), ("补办社保卡要多久", "zh"), ("is my card active", "en"), ("不是", "zh"),
]


@pytest.mark.parametrize("message, language", NOT_A_NAME)
async def test_a_question_or_thanks_at_the_name_prompt_is_not_a_name(message, language):
    slots, said = await validate(tracker("holder_name", message, language=language))
    assert slots["holder_name"] is None
    assert said == message_text("not_a_holder_name", language)
    assert ("退出" if language == "zh" else "cancel") in said  # how to leave
    assert not slots.get("form_failures")  # no attempt at a name: not counted


async def test_a_weakly_classified_faq_question_is_left_to_the_faq_rule():
    # No slot set: Rasa rejects the form for this turn and the FAQ rule answers it.
    slots, said = await validate(tracker("holder_name", "how long does it take to get a new card",
                                         intent="faq", confidence=0.6, language="en"))
    assert slots == {} and said == ""


@pytest.mark.parametrize("message", ["补卡要带什么材料？", "what is the legal basis?", "谢谢", "验证码多久有效"])
async def test_a_question_at_the_id_and_code_prompts_is_not_a_value(message):
    for requested, key in (("id_number_masked", "not_a_id_number_masked"), ("sms_code", "not_a_sms_code")):
        slots, said = await validate(tracker(requested, message, holder_name=sealed.seal("陈静", SENDER), verification_id="v1"))
        assert slots[requested] is None and said == message_text(key, "zh"), (requested, message)
        assert not slots.get("form_failures")


async def test_the_prompt_is_not_repeated_after_saying_what_is_needed():
    said = message_text("not_a_holder_name", "zh")
    t = tracker("holder_name", "谢谢")
    t.events.append(BotUttered(said))
    dispatcher = CollectingDispatcher()
    await ActionAskHolderName().run(dispatcher, t, DOMAIN)
    assert dispatcher.messages == []
    # ... but it is after an FAQ answer.
    t = tracker("id_number_masked", "补卡要带什么材料")
    t.events.append(BotUttered("补办社保卡一般需要准备……"))
    await ActionAskIdNumber().run(dispatcher, t, DOMAIN)
    assert dispatcher.messages[0]["text"] == message_text("ask_id_number_masked", "zh")


# --- names ---------------------------------------------------------------------------------

@pytest.mark.parametrize("message, name", [
    ("赵丽", "赵丽"), ("阿卜杜·热合曼", "阿卜杜·热合曼"), ("阿卜杜.热合曼", "阿卜杜·热合曼"), ("我叫赵丽", "赵丽"),
    ("赵丽。", "赵丽"), ("John Smith", "John Smith"), ("my name is Mary-Ann O'Neil", "Mary-Ann O'Neil"),
])
async def test_a_name_is_taken_sealed(message, name):
    slots, said = await validate(tracker("holder_name", message))
    assert said == "" and sealed.unseal(slots["holder_name"], SENDER) == name


async def test_a_confident_faq_intent_still_wins_over_a_short_name_like_question():
    slots, _ = await validate(tracker("holder_name", "补卡", intent="faq", confidence=0.9))
    assert slots == {}


async def test_a_wrong_name_is_explained_and_counted():
    slots, said = await validate(tracker("holder_name", "张3"))
    assert slots["holder_name"] is None and said == message_text("invalid_name", "zh")
    assert slots["form_failures"] == {"holder_name": 1}


# --- ID numbers --------------------------------------------------------------------------

@pytest.mark.parametrize("message, language", [
    ("13800000002", "zh"), ("138 0000 0002", "zh"), ("+86 138-0000-0002", "en"), ("8613800000002", "en"),
])
async def test_a_phone_number_at_the_id_prompt_is_recognised(message, language):
    slots, said = await validate(tracker("id_number_masked", message, language=language, holder_name=sealed.seal("陈静", SENDER)))
    assert said == message_text("phone_not_id", language)
    assert ("手机号码" in said) if language == "zh" else ("phone number" in said)
    assert slots["id_number_masked"] is None and slots["form_failures"] == {"id_number_masked": 1}


@pytest.mark.parametrize("language, expected", [("zh", "旧的15位"), ("en", "old 15-digit")])
async def test_a_legacy_15_digit_number_gets_its_own_explanation(language, expected):
    slots, said = await validate(tracker("id_number_masked", "440524800101001", language=language,
                                         holder_name=sealed.seal("陈静", SENDER)))
    assert expected in said and slots["id_number_masked"] is None


# --- leaving --------------------------------------------------------------------------------

LEAVING = [("算了", "zh"), ("不办了", "zh"), ("不要了", "zh"), ("退出", "zh"), ("取消", "zh"), ("算了吧，不办了", "zh"),
           ("never mind", "en"), ("forget it", "en"), ("quit", "en"), ("stop", "en"), ("Cancel please.", "en")]


@pytest.mark.parametrize("message, language", LEAVING)
async def test_leaving_words_end_the_form_when_nlu_is_unsure(message, language):
    for requested in SLOTS:
        slots, said = await validate(tracker(requested, message, language=language,
                                             holder_name=sealed.seal("陈静", SENDER), verification_id="v1"))
        assert said == message_text("task_cancelled", language), requested
        assert slots["requested_slot"] is None and slots[requested] is None


async def test_a_confident_stop_intent_is_left_to_the_stop_rule():
    slots, said = await validate(tracker("holder_name", "算了", intent="stop", confidence=0.95))
    assert slots == {} and said == ""


# --- codes -----------------------------------------------------------------------------------

async def test_a_code_with_words_but_no_question_is_a_code_attempt():
    # "验证码是12345": a code typed with too few digits: the format is explained and counted.
    slots, said = await validate(tracker("sms_code", "验证码是12345", verification_id="v1"))
    assert said == message_text("ask_sms_code_format", "zh") and slots["form_failures"] == {"sms_code": 1}


def test_a_wait_is_told_in_whole_minutes_rounded_up():
    from actions.forms import whole_minutes

    assert [whole_minutes(s) for s in (1, 59, 60, 61, 29.6 * 60, 1800)] == [1, 1, 1, 2, 30, 30]
