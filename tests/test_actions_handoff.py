"""The hand-over's actions (actions/handoff.py, actions/callback.py) in this
process, on rasa_sdk's own Tracker, against a real card backend
(tests/support/backend.py): a queued live ticket and its place, outside staff
hours the call-back offer, the status changes spoken only for a genuine
trigger, the call-back form's answers, and what the backend records: a call
back to a masked number, or no contact (and then no promise of a call). The
mobile number is never in clear in a slot, a message or what the tracker store keeps."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import conversation
from actions.backend_client import BackendClient
from actions.callback import ActionAskCallbackConsent, ActionAskCallbackPhone, ActionSubmitCallback, ValidateCallbackForm
from actions.handoff import ActionHandoffUpdate, ActionHumanHandoff
from actions.messages import text as message_text
from bot.core import knowledge_base
from bot.core.paths import ROOT
from bot.handoff import hours
from bot.privacy import pii, sealed
from bot.tracker_store import redacted_events
from tests.support import personal_values
from tests.support.backend import Backend, new_phone, sqlite_backend

KEY = "dGVzdC1zbG90LXNlYWwta2V5LTMyLWJ5dGVzLWxvbmc="
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
EXTERNAL = {"is_external": True}
_senders = iter(range(1, 10 ** 6))


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    with sqlite_backend(tmp_path_factory, "handoff-actions") as running:
        yield running


@pytest.fixture(autouse=True)
def settings(monkeypatch):
    monkeypatch.setenv("SLOT_SEAL_KEY", KEY)
    monkeypatch.setenv("HANDOFF_HOURS", "always")
    monkeypatch.setenv("HANDOFF_WAIT_MINUTES", "10")


@pytest.fixture()
async def client(backend, monkeypatch):
    """The actions' backend client, pointed at the test backend."""
    async with BackendClient(backend.url, backend.token) as c:
        monkeypatch.setattr(conversation, "_client", c)
        yield c


def sender() -> str:
    return f"handoff-actions-{next(_senders)}"


def tracker(sender_id: str, text: str = "转人工", intent: str = "human_handoff", confidence: float = 0.99,
            lang: str = "zh", requested: Optional[str] = None, metadata: Optional[dict] = None,
            entities: Optional[list] = None, events: Optional[list] = None, **slot_values) -> Tracker:
    values = {name: None for name in DOMAIN["slots"]}
    values.update(language=lang, requested_slot=requested, **slot_values)
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": entities or [],
              "metadata": metadata or {}, "message_id": f"m-{sender_id}-{len(events or [])}"}
    history = list(events or []) + [{"event": "user", "text": text, "parse_data": latest, "metadata": metadata or {}}]
    return Tracker(sender_id, values, latest, history, False, None,
                   {"name": "callback_form"} if requested else {}, "action_listen")


async def run(action, t: Tracker):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, DOMAIN)
    return dispatcher.messages, events


def said(messages) -> List[str]:
    return [m["text"] for m in messages if m.get("text")]


def slot_events(events) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def followups(events) -> List[str]:
    return [e["name"] for e in events if e["event"] == "followup"]


def handoff_of(messages) -> Dict[str, Any]:
    (payload,) = [m["custom"]["handoff"] for m in messages if m.get("custom")]
    return payload


def backend_view(backend: Backend, handoff_id: int) -> dict:
    with backend.client() as http:
        response = http.get(f"/v1/handoffs/{handoff_id}")
    response.raise_for_status()
    return response.json()


# --- asking for a person -----------------------------------------------------------------------

async def test_during_staff_hours_the_conversation_is_queued_with_its_place(backend, client):
    first, second = sender(), sender()
    asked_before = [  # an FAQ question and a task, before asking for a person
        {"event": "user", "text": "补卡要钱吗", "parse_data": {
            "intent": {"name": "faq"}, "response_selector": {"faq": {"response": {
                "intent_response_key": "faq/reissue_fee"}}}}},
        {"event": "user", "text": "我的卡丢了", "parse_data": {"intent": {"name": "report_lost_card"}}},
    ]
    messages, events = await run(ActionHumanHandoff(), tracker(first, events=asked_before))
    assert events == []
    queued = handoff_of(messages)
    assert queued["status"] == "waiting" and queued["mode"] == "live" and isinstance(queued["id"], int)
    place = queued["position"]
    view = backend_view(backend, queued["id"])
    assert view["conversation"] == first
    assert view["handoff"]["status"] == "waiting" and view["handoff"]["mode"] == "live"
    # The topics by their titles, never what was typed.
    topics = f"{knowledge_base.load()['reissue_fee'].entry('zh').title}, {message_text('intent_report_lost_card', 'zh')}"
    assert view["handoff"]["summary"] == f"用户咨询的主题：{topics}"
    number = view["handoff"]["ticket_number"]
    expected = message_text("handoff_queued_first" if place == 1 else "handoff_queued", "zh",
                            ticket_number=number, position=place, ahead=place - 1)
    assert said(messages) == [expected]
    assert "算了" in expected  # how to leave

    messages, _ = await run(ActionHumanHandoff(), tracker(second, text="can i talk to a person", lang="en"))
    behind = handoff_of(messages)
    assert behind["position"] == place + 1
    number = backend_view(backend, behind["id"])["handoff"]["ticket_number"]
    assert said(messages) == [message_text("handoff_queued", "en", ticket_number=number, position=place + 1,
                                           ahead=place)]
    assert f"number {place + 1} in line" in said(messages)[0]

    # Asked again: the same ticket, the same place; nothing new opened.
    messages, _ = await run(ActionHumanHandoff(), tracker(first, events=[{"event": "user", "text": "转人工"}]))
    assert handoff_of(messages)["id"] == queued["id"] and handoff_of(messages)["position"] == place


def closed_now() -> str:
    """Staff hours that are closed at this moment (only tomorrow, in Shanghai)."""
    tomorrow = (dt.datetime.now(hours.SHANGHAI).weekday() + 1) % 7
    return f"{hours.DAYS[tomorrow].title()} 09:00-12:00"


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_outside_staff_hours_the_hours_are_said_and_a_call_back_offered(backend, client, monkeypatch, lang):
    monkeypatch.setenv("HANDOFF_HOURS", closed_now())
    with backend.client() as http:
        before = len(http.get("/v1/handoffs", params={"status": "open", "limit": 200}).json()["handoffs"])
    t = tracker(sender(), lang=lang, form_failures={"callback_phone": 2, "sms_code": 1},
                callback_consent=True, callback_phone="sealed:old")
    messages, events = await run(ActionHumanHandoff(), t)
    day = message_text(f"weekday_{(dt.datetime.now(hours.SHANGHAI).weekday() + 1) % 7}", lang)
    assert said(messages) == [message_text("handoff_outside_hours", lang, hours=f"{day} 09:00-12:00")]
    assert followups(events) == ["callback_form"]
    # The call-back form starts afresh; other forms' counts are kept.
    assert slot_events(events) == {"callback_consent": None, "callback_phone": None,
                                   "form_failures": {"sms_code": 1}}
    with backend.client() as http:  # no ticket until the citizen has answered
        assert len(http.get("/v1/handoffs", params={"status": "open", "limit": 200}).json()["handoffs"]) == before


async def test_with_live_help_switched_off_it_says_so(client, monkeypatch):
    monkeypatch.setenv("HANDOFF_HOURS", "never")
    messages, events = await run(ActionHumanHandoff(), tracker(sender()))
    assert said(messages) == [message_text("handoff_no_live_service", "zh")]
    assert followups(events) == ["callback_form"]


async def test_a_backend_that_cannot_be_reached_gets_an_honest_reply(monkeypatch):
    async with BackendClient("http://127.0.0.1:9", "token", timeout=1) as unreachable:
        monkeypatch.setattr(conversation, "_client", unreachable)
        messages, events = await run(ActionHumanHandoff(), tracker(sender()))
    assert said(messages) == [message_text("backend_down", "zh")] and events == []


# --- status changes ----------------------------------------------------------------------------

@pytest.mark.parametrize("intent, entities, lang, key, fields, payload", [
    ("EXTERNAL_handoff_claimed", [{"entity": "staff_name", "value": "王**"}], "zh", "handoff_claimed",
     {"staff": "王**"}, {"status": "claimed", "staff": "王**"}),
    ("EXTERNAL_handoff_claimed", [{"entity": "staff_name", "value": "王**"}], "en", "handoff_claimed",
     {"staff": "王**"}, {"status": "claimed", "staff": "王**"}),
    ("EXTERNAL_handoff_claimed", [], "zh", "handoff_claimed_unnamed", {}, {"status": "claimed", "staff": None}),
    ("EXTERNAL_handoff_claimed", [{"entity": "staff_name", "value": "x" * 200}], "zh", "handoff_claimed_unnamed",
     {}, {"status": "claimed", "staff": None}),
    ("EXTERNAL_handoff_released", [{"entity": "by", "value": "citizen"}], "zh", "handoff_left_by_citizen", {},
     {"status": "closed", "outcome": "back_to_bot", "by": "citizen"}),
    ("EXTERNAL_handoff_released", [{"entity": "by", "value": "staff"}], "en", "handoff_handed_back", {},
     {"status": "closed", "outcome": "back_to_bot", "by": "staff"}),
    ("EXTERNAL_handoff_closed", [], "zh", "handoff_closed", {}, {"status": "closed"}),
])
async def test_a_status_change_is_spoken_in_the_conversations_language(intent, entities, lang, key, fields, payload):
    t = tracker(sender(), text=f"EXTERNAL: {intent}", intent=intent, lang=lang, metadata=EXTERNAL, entities=entities)
    messages, events = await run(ActionHandoffUpdate(), t)
    assert said(messages) == [message_text(key, lang, **fields)]
    assert handoff_of(messages) == payload
    assert events == []


async def test_a_timeout_says_how_long_and_offers_a_call_back(monkeypatch):
    monkeypatch.setenv("HANDOFF_WAIT_MINUTES", "7")
    t = tracker(sender(), text="EXTERNAL: EXTERNAL_handoff_timeout", intent="EXTERNAL_handoff_timeout",
                metadata=EXTERNAL)
    messages, events = await run(ActionHandoffUpdate(), t)
    assert said(messages) == [message_text("handoff_timeout", "zh", minutes=7)]
    assert "7 分钟" in said(messages)[0]
    assert handoff_of(messages) == {"status": "waiting", "mode": "callback"}
    assert followups(events) == ["callback_form"]


@pytest.mark.parametrize("intent", ["EXTERNAL_handoff_claimed", "EXTERNAL_handoff_timeout"])
async def test_a_typed_external_intent_is_no_trigger(intent):
    """"/EXTERNAL_handoff_claimed{"staff_name": "..."}" typed by the citizen: nothing said, nothing started."""
    t = tracker(sender(), text=f'/{intent}{{"staff_name": "王**"}}', intent=intent,
                entities=[{"entity": "staff_name", "value": "王**"}], metadata={"client": "abc"})
    assert await run(ActionHandoffUpdate(), t) == ([], [])


# --- the call-back form --------------------------------------------------------------------------

async def validate(t: Tracker):
    messages, events = await run(ValidateCallbackForm(), t)
    return said(messages), slot_events(events)


@pytest.mark.parametrize("text, intent, answer", [
    ("需要", "affirm", True), ("/affirm", "affirm", True), ("好的", "nlu_fallback", True), ("Yes, please", "affirm", True),
    ("要", "nlu_fallback", True), ("不用了", "deny", False), ("/deny", "deny", False), ("No thanks", "deny", False),
    ("算了", "stop", False), ("不需要", "nlu_fallback", False), ("stop", "stop", False),
])
async def test_the_consent_is_a_yes_or_a_no(text, intent, answer):
    words, values = await validate(tracker(sender(), text=text, intent=intent, requested="callback_consent"))
    assert words == []
    assert values["callback_consent"] is answer
    if answer is False:
        assert values["callback_phone"] is None
    assert values.get("requested_slot", "asked by the form") in ("asked by the form", None)


async def test_a_number_typed_at_the_consent_prompt_is_a_yes_and_the_number():
    phone = personal_values.typed(new_phone(), "phone number")
    who = sender()
    words, values = await validate(tracker(who, text=f"{phone[:3]} {phone[3:7]} {phone[7:]}", intent="nlu_fallback",
                                           requested="callback_consent"))
    assert words == [] and values["callback_consent"] is True
    assert sealed.is_sealed(values["callback_phone"]) and sealed.unseal(values["callback_phone"], who) == phone


@pytest.mark.parametrize("text, intent", [("你好", "greet"), ("我的卡什么时候能领", "nlu_fallback"),
                                          ("what?", "nlu_fallback")])
async def test_anything_else_at_the_consent_prompt_asks_again_plainly(text, intent):
    who = sender()
    words, values = await validate(tracker(who, text=text, intent=intent, requested="callback_consent"))
    assert words == [message_text("not_a_callback_consent", "zh")]
    assert values == {"callback_consent": None}
    # ...and the prompt is not said a second time in the turn.
    asked = tracker(who, text=text, intent=intent, requested="callback_consent")
    asked.events.append({"event": "bot", "text": words[0]})
    messages, _ = await run(ActionAskCallbackConsent(), asked)
    assert messages == []


@pytest.mark.parametrize("intent, requested", [("faq", "callback_consent"), ("human_handoff", "callback_consent"),
                                               ("faq", "callback_phone"), ("human_handoff", "callback_phone")])
async def test_a_question_or_asking_for_a_person_goes_to_its_rule(intent, requested):
    """The form takes nothing (Rasa rejects it for the turn): data/rules.yml answers."""
    text = "补办社保卡要带什么？" if intent == "faq" else "我要找人工"
    assert await validate(tracker(sender(), text=text, intent=intent, requested=requested)) == ([], {})


async def test_a_trigger_at_a_prompt_is_no_answer():
    t = tracker(sender(), text="EXTERNAL: EXTERNAL_handoff_closed", intent="EXTERNAL_handoff_closed",
                metadata=EXTERNAL, requested="callback_phone", callback_consent=True)
    assert await validate(t) == ([], {})


@pytest.mark.parametrize("metadata", [EXTERNAL, {}])
async def test_the_form_starting_after_an_action_cleared_its_slots_says_nothing(metadata):
    """As Rasa starts the form (a FollowupAction after action_human_handoff or
    a timeout): the slots the action cleared come back as candidates, None."""
    t = tracker(sender(), metadata=metadata, events=[
        {"event": "action", "name": "action_handoff_update"}, {"event": "slot", "name": "callback_consent", "value": None},
        {"event": "slot", "name": "callback_phone", "value": None}, {"event": "action", "name": "callback_form"},
        {"event": "slot", "name": "callback_consent", "value": None}, {"event": "slot", "name": "callback_phone", "value": None},
    ])
    t.events.insert(0, t.events.pop())  # the message first, then what followed it
    words, values = await validate(t)
    assert words == [] and not any(values.values())


async def test_the_consent_prompt_asks_in_plain_words_with_two_buttons():
    messages, _ = await run(ActionAskCallbackConsent(), tracker(sender(), requested="callback_consent"))
    (message,) = messages
    assert message["text"] == "需要工作人员在工作时间给您回电吗？您留下的手机号只用于这次回电，工单关闭后即删除。"
    assert [(b["title"], b["payload"]) for b in message["buttons"]] == [("需要", "/affirm"), ("不用了", "/deny")]
    messages, _ = await run(ActionAskCallbackPhone(), tracker(sender(), requested="callback_phone", lang="en"))
    assert said(messages) == [message_text("ask_callback_phone", "en")]


@pytest.mark.parametrize("typed", ["{phone}", "+86 {phone}", "{a}-{b}-{c}", "我的手机号是{phone}", "{wide}"])
async def test_a_mobile_number_is_taken_however_it_is_typed_and_sealed(typed):
    phone = personal_values.typed(new_phone(), "phone number")
    wide = "".join(chr(ord(c) + 0xFEE0) for c in phone)  # full-width digits
    who = sender()
    text = typed.format(phone=phone, a=phone[:3], b=phone[3:7], c=phone[7:], wide=wide)
    words, values = await validate(tracker(who, text=text, intent="nlu_fallback", requested="callback_phone",
                                           callback_consent=True))
    assert words == []
    assert values["callback_consent"] is True
    assert sealed.unseal(values["callback_phone"], who) == phone
    assert phone not in json.dumps(values)
    assert sealed.unseal(values["callback_phone"], "another-conversation") is None


@pytest.mark.parametrize("text, intent", [("谢谢", "thank"), ("thanks", "thank"), ("号码是哪个？", "nlu_fallback"),
                                          ("what number do you mean?", "nlu_fallback"), ("好的", "affirm")])
async def test_thanks_or_a_question_is_never_taken_for_a_number(text, intent):
    words, values = await validate(tracker(sender(), text=text, intent=intent, requested="callback_phone",
                                           callback_consent=True, form_failures={"callback_phone": 2}))
    assert words == [message_text("not_a_callback_phone", "zh")]
    assert values == {"callback_phone": None}  # not counted: the third wrong number is still to come


@pytest.mark.parametrize("text, intent", [("算了", "stop"), ("不用了", "deny"), ("never mind", "stop"),
                                          ("no", "deny")])
async def test_leaving_at_the_number_prompt_means_no_contact(text, intent):
    words, values = await validate(tracker(sender(), text=text, intent=intent, requested="callback_phone",
                                           callback_consent=True))
    assert words == []
    assert values["callback_consent"] is False and values["callback_phone"] is None
    assert values["requested_slot"] is None  # the form ends: the submit records "no contact"


async def test_three_wrong_numbers_end_the_form_politely():
    failures = None
    for attempt, typed in enumerate(["12345", "110105194912310021", "2381234567"], 1):
        words, values = await validate(tracker(sender(), text=typed, intent="nlu_fallback", requested="callback_phone",
                                               callback_consent=True, form_failures=failures))
        failures = values.get("form_failures")
        if attempt < 3:
            assert words == [message_text("invalid_callback_phone", "zh")]
            assert values["callback_phone"] is None and failures == {"callback_phone": attempt}
        else:
            assert words == [message_text("callback_phone_given_up", "zh")]
            assert values["callback_consent"] is False and values["callback_phone"] is None
            assert values["requested_slot"] is None and failures is None


async def test_a_password_at_a_prompt_is_warned_about_and_discarded():
    words, values = await validate(tracker(sender(), text="我的密码是123456", intent="nlu_fallback",
                                           requested="callback_phone", callback_consent=True))
    assert words == [message_text("password_warning", "zh")]
    assert values == {"callback_phone": None}


# --- recording the choice ------------------------------------------------------------------------

async def submit(who: str, consent: Optional[bool], phone: Optional[str], lang: str = "zh", **kwargs):
    t = tracker(who, text="x", intent="nlu_fallback", lang=lang, callback_consent=consent,
                callback_phone=sealed.seal(phone, who) if phone else None, **kwargs)
    return await run(ActionSubmitCallback(), t)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_call_back_is_recorded_with_the_number_masked(backend, client, lang):
    phone = personal_values.typed(new_phone(), "phone number")
    who = sender()
    messages, events = await submit(who, True, phone, lang)
    payload = handoff_of(messages)
    view = backend_view(backend, payload["id"])
    number, masked = view["handoff"]["ticket_number"], pii.mask_phone(phone)
    assert said(messages) == [message_text("callback_recorded", lang, ticket_number=number, phone_masked=masked)]
    assert payload == {"status": "waiting", "id": payload["id"], "mode": "callback", "position": None}
    assert view["conversation"] == who
    assert view["handoff"]["mode"] == "callback" and view["handoff"]["status"] == "waiting"
    assert view["handoff"]["callback"] == {"consent": True, "phone": masked}
    assert slot_events(events) == {"callback_consent": None, "callback_phone": None}  # the number is forgotten
    assert phone not in json.dumps([messages, events], ensure_ascii=False)


@pytest.mark.parametrize("consent", [False, None])
async def test_without_a_number_no_contact_is_recorded_and_no_call_promised(backend, client, consent):
    messages, events = await submit(sender(), consent, None)
    view = backend_view(backend, handoff_of(messages)["id"])
    number = view["handoff"]["ticket_number"]
    assert said(messages) == [message_text("callback_no_contact", "zh", ticket_number=number)]
    assert "不会有人回电" in said(messages)[0]
    assert view["handoff"]["callback"] == {"consent": False, "phone": None}
    assert slot_events(events) == {"callback_consent": None, "callback_phone": None}


async def test_after_a_timeout_the_call_back_goes_on_the_same_ticket(backend, client):
    who = sender()
    messages, _ = await run(ActionHumanHandoff(), tracker(who))
    live = handoff_of(messages)
    with backend.client() as http:
        expired = http.post("/v1/handoffs/expire", json={"older_than_seconds": 0}).json()["expired"]
    assert live["id"] in [e["id"] for e in expired]
    phone = personal_values.typed(new_phone(), "phone number")
    messages, _ = await submit(who, True, phone)
    assert handoff_of(messages)["id"] == live["id"]
    view = backend_view(backend, live["id"])["handoff"]
    assert view["mode"] == "callback" and view["callback"]["phone"] == pii.mask_phone(phone)


async def test_a_backend_failure_at_the_submit_is_said_and_the_number_forgotten(monkeypatch):
    async with BackendClient("http://127.0.0.1:9", "token", timeout=1) as unreachable:
        monkeypatch.setattr(conversation, "_client", unreachable)
        messages, events = await submit(sender(), True, new_phone())
    assert said(messages) == [message_text("backend_down", "zh")]
    assert slot_events(events) == {"callback_consent": None, "callback_phone": None}


# --- what the tracker store keeps ----------------------------------------------------------------

def test_the_tracker_store_never_keeps_the_number_in_clear(monkeypatch):
    """A call-back conversation as Rasa holds it, through the tracker store's redaction:
    the number typed at the prompt is stored masked whole, the slot only sealed."""
    monkeypatch.setenv("SLOT_SEAL_KEY", KEY)
    phone = personal_values.typed(new_phone(), "phone number")
    other = personal_values.typed(new_phone(), "phone number")
    who = "redaction-callback"
    events: List[Event] = [
        ActionExecuted("action_listen"), UserUttered("转人工", {"name": "human_handoff", "confidence": 0.99}),
        ActionExecuted("action_human_handoff"), BotUttered(message_text("handoff_outside_hours", "zh", hours="周一至周五 09:00-17:00")),
        ActionExecuted("callback_form"), SlotSet("requested_slot", "callback_consent"),
        BotUttered(message_text("ask_callback_consent", "zh")),
        ActionExecuted("action_listen"), UserUttered(f"需要，打 {other}", {"name": "affirm", "confidence": 0.9}),
        ActionExecuted("callback_form"), SlotSet("callback_consent", True), SlotSet("requested_slot", "callback_phone"),
        ActionExecuted("action_listen"), UserUttered(f"{phone[:3]} {phone[3:7]} {phone[7:]}",
                                                     {"name": "nlu_fallback", "confidence": 0.4}),
        ActionExecuted("callback_form"), SlotSet("callback_phone", sealed.seal(phone, who)),
        SlotSet("requested_slot", None),
        ActionExecuted("action_submit_callback"),
        BotUttered(message_text("callback_recorded", "zh", ticket_number="HD-20261202-0001",
                                phone_masked=pii.mask_phone(phone))),
        SlotSet("callback_consent", None), SlotSet("callback_phone", None),
    ]
    stored = json.dumps([e.as_dict() for e in redacted_events(events)], ensure_ascii=False)
    digits = stored.replace(" ", "")
    for number in (phone, other):
        assert number not in digits and number[3:] not in digits
    # The reply as the citizen saw it (138****5678), or with the last four digits masked too:
    # digits typed at the prompt are masked wherever the same turn repeats them.
    assert f"致电 {phone[:3]}****" in stored
    typed_at_prompt = [e for e in redacted_events(events) if isinstance(e, UserUttered)][-1]
    assert set(typed_at_prompt.text.replace(" ", "")) == {"*"}
    assert "sealed:" in stored


def test_a_triggered_intents_name_is_stored_as_it_is():
    """The tracker store masks an intent "name" that is no intent's (a typed "/李四 ..."),
    but an EXTERNAL_ intent is one: the conversation read back must still show what happened."""
    trigger = UserUttered("EXTERNAL: EXTERNAL_handoff_claimed", {"name": "EXTERNAL_handoff_claimed"},
                          [{"entity": "staff_name", "value": "王**"}], metadata={"is_external": True})
    typed = UserUttered("/ZHANGSAN 13800000000", {"name": "ZHANGSAN", "confidence": 1.0})
    stored = [e for e in redacted_events([ActionExecuted("action_listen"), trigger, ActionExecuted("action_listen"),
                                          typed]) if isinstance(e, UserUttered)]
    assert stored[0].parse_data["intent"]["name"] == "EXTERNAL_handoff_claimed" and stored[0].text == trigger.text
    assert stored[0].entities[0]["value"] == "王**"
    assert set(stored[1].parse_data["intent"]["name"]) == {"*"}
