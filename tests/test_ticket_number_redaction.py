"""A handoff ticket number (HD-YYYYMMDD-NNNN) is no personal data: the
redaction leaves it as the user saw it, in the stored bot message (what the
widget's history shows after a reload) and in log lines, while an ID number,
a phone number and a code next to it are still masked."""
import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from actions.messages import text as message_text
from bot.privacy.log_redaction import redact_text
from bot.privacy.pii import redact
from bot.tracker_store import redact_user_text, redacted_events

TICKET = "HD-20261202-0003"


@pytest.mark.parametrize("key", ["handoff_queued", "handoff_queued_first", "handoff_with_staff",
                                 "handoff_callback_open", "callback_recorded", "callback_no_contact"])
@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_stored_handoff_message_keeps_the_ticket_number(key, language):
    said = message_text(key, language, ticket_number=TICKET, position=3, ahead=2, phone_masked="138****5678")
    assert TICKET in said
    events = [ActionExecuted("action_listen"), UserUttered("转人工" if language == "zh" else "talk to a person"),
              ActionExecuted("action_human_handoff"), BotUttered(said, {"buttons": None})]
    (stored,) = [e for e in redacted_events(events) if isinstance(e, BotUttered)]
    assert stored.text == said


@pytest.mark.parametrize("number", ["HD-20261202-0003", "HD-20261124-012345", "HD-20270101-9999"])
def test_ticket_numbers_pass_every_redaction(number):
    for line in (f"工单 {number}", f"ticket {number}.", f"（工单{number}）"):
        assert redact(line) == redact(line, codes=True) == redact_text(line) == line
        assert redact_user_text(f"我的工单号是{number}") == f"我的工单号是{number}"


def test_personal_data_next_to_a_ticket_number_is_still_masked():
    line = f"工单{TICKET} 身份证440524188001010014 手机13800000002 验证码 123456"
    assert redact(line, codes=True) == f"工单{TICKET} 身份证440524********0014 手机138****0002 验证码 ******"
    assert redact_text(f"ticket {TICKET}, phone 138-0000-0002") == f"ticket {TICKET}, phone 138****0002"
    # Glued on, a number is no part of the ticket number: masked as before.
    assert redact(f"{TICKET}-13800000002") == f"{TICKET}-138****0002"
    assert redact(f"{TICKET}440524188001010014") != f"{TICKET}440524188001010014"
    # Only the backend's format is spared: other letters before such digits change nothing.
    assert redact("AB-20261202-0003") == "AB-202****0003"
