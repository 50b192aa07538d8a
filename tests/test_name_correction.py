""""名字打错了" / "wrong name" at the ID-number or code prompt: the form starts
again from the name. The validator says nothing and counts no failure (it
said three error messages, one per slot, and counted each), the slots of the
old name's verification are cleared, and the one message the user gets is
the name prompt (in-process, with tests/support/identity_form.py's tracker)."""
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ActionAskHolderName
from actions.messages import text as message_text
from bot.privacy import sealed
from tests.support import identity_form
from tests.support.identity_form import DOMAIN, SENDER, tracker, validate

seal_key = identity_form.seal_key  # the autouse fixture

CORRECTIONS = [("名字打错了", "zh"), ("姓名输错了，我重新说", "zh"), ("sorry, wrong name", "en"), ("I mistyped my name", "en")]


@pytest.mark.parametrize("prompt", ["id_number_masked", "sms_code"])
@pytest.mark.parametrize("message, language", CORRECTIONS)
async def test_correcting_the_name_asks_for_the_name_once_and_counts_nothing(message, language, prompt):
    t = tracker(prompt, message, language=language, holder_name=sealed.seal("陈静", SENDER),
                id_number_masked="440305********0043" if prompt == "sms_code" else None,
                verification_id="v1" if prompt == "sms_code" else None)
    slots, said = await validate(t)
    assert said == ""  # no "not a name", "not an ID number", "the code has 6 digits"
    assert not slots.get("form_failures")
    assert slots["holder_name"] is None
    assert all(slots.get(name) is None for name in ("id_number_masked", "sms_code", "verification_id"))

    # Rasa's form then asks for the first empty slot, the name: the user's one message.
    t.slots.update(slots)
    dispatcher = CollectingDispatcher()
    await ActionAskHolderName().run(dispatcher, t, DOMAIN)
    assert [m["text"] for m in dispatcher.messages] == [message_text("ask_holder_name", language)]
