"""Conversations as Rasa's events, for tests of how trackers are kept and
read: FAQ turns, the identity form (with questions in the middle, a
rejection, a cancel, a finished verification), the two-stage fallback with
reverted messages (rephrased, or given up on), a reverted action, a
follow-up action, a pause, a restart; on the project's domain."""
from __future__ import annotations

import random
import warnings
from typing import Callable, Dict, List

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted, ActionExecutionRejected, ActionReverted, ActiveLoop, BotUttered, ConversationPaused,
    ConversationResumed, DefinePrevUserUtteredFeaturization, EntitiesAdded, Event, FollowupAction, LoopInterrupted,
    Restarted, SessionStarted, SlotSet, UserUttered, UserUtteranceReverted,
)

from bot.core.paths import ROOT

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    DOMAIN = Domain.load([str(ROOT / "domain.yml"), str(ROOT / "data" / "faq" / "responses.yml")])

FORM = "verify_identity_form"
LISTEN = "action_listen"


def _user(intent: str, text: str = "text", entities=None) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 0.9}, entities or [],
                       {"intent": {"name": intent, "confidence": 0.9}, "entities": entities or [], "text": text})


def _act(name: str, hidden: bool = True) -> ActionExecuted:
    return ActionExecuted(name, policy="RulePolicy", confidence=1.0, hide_rule_turn=hidden)


def _say(text: str) -> BotUttered:
    return BotUttered(text, {"elements": None})


def faq(_rng) -> List[Event]:
    return [_user("faq", "补卡要带什么材料"), SlotSet("language", "zh"), _act("utter_faq"), _say("answer"), _act(LISTEN)]


def greet(_rng) -> List[Event]:
    return [_user("greet", "hello", [{"entity": "language", "value": "en", "start": 0, "end": 5}]),
            SlotSet("language", "en"), EntitiesAdded([{"entity": "language", "value": "en"}]),
            _act("utter_greet"), _say("hi"), _act(LISTEN)]


def form_start(_rng) -> List[Event]:
    return [_user("check_card_status"), _act("action_remember_task"), SlotSet("pending_task", "check_card_status"),
            _act(FORM), ActiveLoop(FORM), SlotSet("requested_slot", "holder_name"), _say("name?"), _act(LISTEN)]


def form_step(rng) -> List[Event]:
    slot = rng.choice(["holder_name", "id_number_masked"])
    return [_user("faq", "李四"), _act(FORM, hidden=False), SlotSet(slot, "李*"),
            SlotSet("requested_slot", "sms_code"), _say("code?"), _act(LISTEN)]


def form_question(_rng) -> List[Event]:  # an FAQ in the middle of the form, then the form asks again
    return [_user("faq", "补卡要钱吗"), _act("utter_faq"), _say("answer"), _act(FORM), _say("name?"), _act(LISTEN)]


def form_rejected(_rng) -> List[Event]:
    return [_user("thank", "谢谢"), ActionExecutionRejected(FORM), _act("utter_you_are_welcome"), _say("welcome"),
            LoopInterrupted(True), _act(FORM), _say("name?"), _act(LISTEN)]


def form_end(_rng) -> List[Event]:
    return [_user("faq", "123456"), _act(FORM), SlotSet("sms_code", "verified"), ActiveLoop(None),
            SlotSet("requested_slot", None), _act("action_run_task"), _say("done"), _act(LISTEN)]


def form_cancel(_rng) -> List[Event]:
    return [_user("stop", "算了"), _act("action_deactivate_loop"), ActiveLoop(None),
            SlotSet("requested_slot", None), _act("action_cancel_task"), _say("ok"), _act(LISTEN)]


def fallback_rephrased(_rng) -> List[Event]:
    return [_user("nlu_fallback", "补"), _act("action_two_stage_fallback"), ActiveLoop("action_two_stage_fallback"),
            _say("did you mean"), _act(LISTEN), _user("faq", "补卡"), _act("action_two_stage_fallback"),
            ActiveLoop(None), UserUtteranceReverted(), UserUtteranceReverted(),
            DefinePrevUserUtteredFeaturization(False), _act("utter_faq"), _say("answer"), _act(LISTEN)]


def fallback_gave_up(_rng) -> List[Event]:  # as Rasa 3.6 logs it: "did you mean", unclear again, "sorry"
    return [_user("nlu_fallback", "补卡"), SlotSet("language", "zh"), DefinePrevUserUtteredFeaturization(False),
            _act("action_two_stage_fallback"), ActiveLoop("action_two_stage_fallback"), _say("did you mean"),
            _act(LISTEN), _user("nlu_fallback", "补卡"), SlotSet("language", "zh"),
            DefinePrevUserUtteredFeaturization(False), _act("action_two_stage_fallback"), ActiveLoop(None),
            _say("sorry"), UserUtteranceReverted(), _act(LISTEN)]


def reverted_action(_rng) -> List[Event]:
    return [_user("affirm", "是"), _act("utter_anything_else"), ActionReverted(), _act("utter_anything_else"),
            _say("anything else?"), _act(LISTEN)]


def followup(_rng) -> List[Event]:
    return [_user("human_handoff", "转人工"), _act("action_human_handoff", hidden=False),
            FollowupAction("utter_anything_else"), _act("utter_anything_else"), _say("?"), _act(LISTEN)]


def paused(_rng) -> List[Event]:
    return [_user("faq", "人工"), ConversationPaused(), _act(LISTEN), _user("faq", "还在吗"), _act(LISTEN),
            ConversationResumed(), _act(LISTEN)]


def restart(_rng) -> List[Event]:
    return [_user("faq", "/restart"), _act("action_restart"), Restarted(), _act("action_session_start"),
            SessionStarted(), SlotSet("language", "zh"), _act(LISTEN)]


def conversation(seed: int, turns: int, kinds: Dict[str, Callable]) -> List[Event]:
    """A session of `turns` turns of the `kinds` (a form's turns only inside a form), chosen by `seed`."""
    rng = random.Random(seed)
    events = [_act("action_session_start"), SessionStarted(), _act(LISTEN)]
    in_form = False
    for _ in range(turns):
        if in_form:
            kind = rng.choice(["form_step", "form_step", "form_question", "form_rejected", "form_end", "form_cancel"])
        else:
            names = [k for k in kinds if not k.startswith("form_") or k == "form_start"]
            kind = rng.choices(names, [0.1 if k in ("restart", "paused") else 1 for k in names])[0]
        events += kinds[kind](rng)
        in_form = (in_form or kind == "form_start") and kind not in ("form_end", "form_cancel")
    return events


KINDS = {f.__name__: f for f in (faq, greet, form_start, form_step, form_question, form_rejected, form_end,
                                 form_cancel, fallback_rephrased, fallback_gave_up, reverted_action, followup, paused, restart)}
FAQ_ONLY = {"faq": faq}
FALLBACKS = {"faq": faq, "fallback_gave_up": fallback_gave_up}
UNCLEAR_ONLY = {"fallback_gave_up": fallback_gave_up}


