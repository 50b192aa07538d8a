"""Asking for a person, end to end over the REST channel of the product as
`make run` starts it (the trained model's rules, the action server, the card
backend), with no staff on duty (HANDOFF_HOURS=never): the citizen is told so
and offered a call back, in plain words; the call-back form takes a number
however it is typed, never thanks or a question, answers an FAQ question and
goes on; a citizen who leaves no number is never promised a call; asking for
a person in the middle of the identity form leaves it first; a hand-over that
timed out offers the call back on its own ticket; status changes are spoken
only when triggered through Rasa's API. The number is never kept in clear by
the tracker store (and the session's scan, tests/support/personal_values.py,
looks for it everywhere)."""
import json
import sqlite3

import httpx
import pytest

from actions.messages import text as message_text
from bot.privacy import pii
from tests.support import personal_values
from tests.support.backend import new_phone
from tests.support.product import start_product

pytestmark = pytest.mark.product

CONSENT_BUTTONS = [("需要", "/affirm"), ("不用了", "/deny")]


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    """A product of its own: nobody on duty, ever."""
    running = start_product(tmp_path_factory.mktemp("handoff-dialogue"), HANDOFF_HOURS="never",
                            HANDOFF_WAIT_MINUTES="3")
    yield running
    running.stop()


def shown(replies) -> list:
    """What the citizen sees: texts (a custom payload alone is for the channel)."""
    return [r["text"] for r in replies if r.get("text")]


def buttons(replies) -> list:
    return [(b["title"], b["payload"]) for r in replies for b in r.get("buttons") or []]


def backend(product, method: str, path: str, **kwargs) -> dict:
    response = httpx.request(method, f"{product.backend_url}{path}", timeout=10,
                             headers={"Authorization": f"Bearer {product.env['BACKEND_SERVICE_TOKEN']}",
                                      **kwargs.pop("headers", {})}, **kwargs)
    response.raise_for_status()
    return response.json()


def ticket_of(product, sender: str) -> dict:
    """The conversation's newest ticket, as the backend shows it."""
    for view in backend(product, "GET", "/v1/handoffs", params={"status": "open", "limit": 200})["handoffs"]:
        if backend(product, "GET", f"/v1/handoffs/{view['id']}")["conversation"] == sender:
            return view
    raise AssertionError(f"no open ticket for {sender}")


def trigger(product, sender: str, intent: str, entities: dict = None) -> list:
    response = httpx.post(f"{product.rasa_url}/conversations/{sender}/trigger_intent",
                          params={"token": product.env["RASA_AUTH_TOKEN"], "include_events": "NONE"},
                          json={"name": intent, "entities": entities or {}}, timeout=30)
    response.raise_for_status()
    return response.json()["messages"]


def stored_events(product, sender: str) -> str:
    with sqlite3.connect(product.env["TRACKER_DB"]) as db:
        return json.dumps([json.loads(data) for (data,) in db.execute(
            "select data from events where sender_id = ? order by id", (sender,))], ensure_ascii=False)


def phone_typed() -> str:
    return personal_values.typed(new_phone(), "phone number")


def test_outside_staff_hours_a_call_back_is_offered_and_recorded(product):
    sender = "handoff-callback-zh"
    replies = product.say(sender, "我要找人工客服")
    assert shown(replies) == [message_text("handoff_no_live_service", "zh"), message_text("ask_callback_consent", "zh")]
    assert buttons(replies) == CONSENT_BUTTONS
    assert shown(product.say(sender, "/affirm")) == [message_text("ask_callback_phone", "zh")]
    # Thanks is no number; an FAQ question is answered, then the number is asked for again.
    assert shown(product.say(sender, "谢谢")) == [message_text("not_a_callback_phone", "zh")]
    answered = shown(product.say(sender, "补办社保卡需要带什么材料"))
    assert len(answered) == 2 and answered[-1] == message_text("ask_callback_phone", "zh")
    assert shown(product.say(sender, "12345")) == [message_text("invalid_callback_phone", "zh")]  # asks, once
    phone = phone_typed()
    replies = product.say(sender, f"{phone[:3]}-{phone[3:7]}-{phone[7:]}")
    ticket = ticket_of(product, sender)
    assert shown(replies) == [message_text("callback_recorded", "zh", ticket_number=ticket["ticket_number"],
                                           phone_masked=pii.mask_phone(phone))]
    assert ticket["mode"] == "callback" and ticket["callback"] == {"consent": True, "phone": pii.mask_phone(phone)}
    stored = stored_events(product, sender)
    assert phone not in stored.replace("-", "") and "sealed:" in stored
    # Asked again: the same ticket; this time no number: no call is promised.
    product.say(sender, "转人工")
    replies = product.say(sender, "不用了")
    assert shown(replies) == [message_text("callback_no_contact", "zh", ticket_number=ticket["ticket_number"])]
    assert ticket_of(product, sender)["callback"] == {"consent": False, "phone": None}  # the number is gone


def test_in_english_a_no_is_recorded_as_no_contact(product):
    sender = "handoff-callback-en"
    replies = product.say(sender, "can i talk to a real person")
    assert shown(replies) == [message_text("handoff_no_live_service", "en"), message_text("ask_callback_consent", "en")]
    replies = product.say(sender, "/deny")
    number = ticket_of(product, sender)["ticket_number"]
    assert shown(replies) == [message_text("callback_no_contact", "en", ticket_number=number)]
    assert "nobody will call" in shown(replies)[0]


def test_asking_for_a_person_in_the_identity_form_leaves_it_first(product):
    sender = "handoff-in-form"
    product.say(sender, "帮我查一下社保卡状态")
    product.say(sender, "转人工")
    events = json.loads(stored_events(product, sender))
    actions = [e["name"] for e in events if e["event"] == "action" and e["name"] != "action_listen"]
    assert actions[actions.index("action_deactivate_loop"):] == [
        "action_deactivate_loop", "action_human_handoff", "callback_form"]
    loops = [e["name"] for e in events if e["event"] == "active_loop"]
    assert loops[-2:] == [None, "callback_form"]
    # ...and the call-back form, not the identity form, takes the next answer.
    assert shown(product.say(sender, "需要")) == [message_text("ask_callback_phone", "zh")]
    assert shown(product.say(sender, "算了")) == [
        message_text("callback_no_contact", "zh", ticket_number=ticket_of(product, sender)["ticket_number"])]


def test_a_hand_over_that_timed_out_offers_the_call_back_on_its_ticket(product):
    sender = "handoff-timeout"
    product.say(sender, "你好")
    opened = backend(product, "POST", "/v1/handoff-tickets", headers={"Idempotency-Key": "dialogue-timeout-1"},
                     json={"summary": "用户咨询的主题：-", "conversation": sender, "channel": "rest", "mode": "live"})
    expired = backend(product, "POST", "/v1/handoffs/expire", json={"older_than_seconds": 0})["expired"]
    assert opened["id"] in [e["id"] for e in expired]
    messages = trigger(product, sender, "EXTERNAL_handoff_timeout")
    assert shown(messages) == [message_text("handoff_timeout", "zh", minutes=3), message_text("ask_callback_consent", "zh")]
    product.say(sender, "需要")
    phone = phone_typed()
    replies = product.say(sender, phone)
    assert shown(replies) == [message_text("callback_recorded", "zh", ticket_number=opened["ticket_number"],
                                           phone_masked=pii.mask_phone(phone))]
    assert backend(product, "GET", f"/v1/handoffs/{opened['id']}")["handoff"]["callback"]["phone"] == pii.mask_phone(phone)


def test_status_changes_are_spoken_only_when_triggered(product):
    sender = "handoff-updates"
    product.say(sender, "hello")  # an English conversation
    assert shown(trigger(product, sender, "EXTERNAL_handoff_claimed", {"staff_name": "王**"})) == [
        message_text("handoff_claimed", "en", staff="王**")]
    assert shown(trigger(product, sender, "EXTERNAL_handoff_released", {"by": "staff"})) == [
        message_text("handoff_handed_back", "en")]
    assert shown(trigger(product, sender, "EXTERNAL_handoff_closed")) == [message_text("handoff_closed", "en")]
    # The citizen typing the trigger's name gets nothing of the kind.
    assert shown(product.say(sender, '/EXTERNAL_handoff_claimed{"staff_name": "王**"}')) == []
