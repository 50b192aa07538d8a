"""The conversations of tests/test_stories.yml, played end to end against a
running product: each user step's text goes through the REST channel as a
citizen types it (NLU, the language detector, the policies, the action server,
the card backend), and what happened is read back from the Rasa server's
tracker.

The file keeps Rasa's story format; each step says, for the turn it is in:
  user          the text typed. `[text]{"entity": "language", "value": "zh"}`:
                the language the detector must find (none without it).
                `{sms_code}` stands for the code the backend last "sent"; a
                text starting with "/" is a button the previous reply offered.
  intent        what NLU must conclude (for `faq/<topic>`: `faq`, and the
                response selector's topic); left out where NLU's opinion does
                not matter (a name or a number typed into the form).
  action        every action the turn runs, in order (action_listen left out).
  bot           where given, the turn's messages, exactly and all of them.
  slot_was_set, active_loop
                set during the turn, in this order (among others).
What the user sees must be the bot messages of the turn, each one its
action's: an `utter_*` response's variation (an FAQ topic's answer) in the
conversation's language, or a custom action's message in that language (the
actions' one lookup of their words, actions/messages.py).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import yaml

from actions import messages
from bot.core.paths import ROOT

STORIES = Path(__file__).with_name("test_stories.yml")
_ANNOTATED = re.compile(r"^\[(?P<text>.*)\](?P<entity>\{.*\})$", re.DOTALL)


@dataclass
class Turn:
    text: str
    language: Optional[str]  # the language the detector must find
    intent: Optional[str] = None
    actions: List[str] = field(default_factory=list)
    bot: List[str] = field(default_factory=list)  # when given: exactly what the user sees
    changes: List[Tuple[str, str, Any]] = field(default_factory=list)  # ("slot", name, value) / ("loop", name, None)


@dataclass
class Story:
    name: str
    turns: List[Turn]


def _user(text: str) -> Tuple[str, Optional[str]]:
    text = text.strip()
    match = _ANNOTATED.match(text)
    if not match:
        return text, None
    entity = json.loads(match.group("entity"))
    assert entity.get("entity") == "language", text
    return match.group("text"), entity["value"]


def load(path: Path = STORIES) -> List[Story]:
    stories = []
    for story in yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]:
        turns: List[Turn] = []
        for step in story["steps"]:
            if "user" in step:
                turns.append(Turn(*_user(step["user"]), intent=step.get("intent")))
                continue
            assert turns, f"{story['story']}: a story starts with what the user types"
            turn = turns[-1]
            if "action" in step:
                turn.actions.append(step["action"])
            elif "bot" in step:
                turn.bot.append(step["bot"].strip())
            elif "active_loop" in step:
                turn.changes.append(("loop", step["active_loop"], None))
            elif "slot_was_set" in step:
                for slot in step["slot_was_set"]:
                    (name, value), = slot.items()
                    turn.changes.append(("slot", name, value))
            else:
                raise AssertionError(f"{story['story']}: a step this runner does not know: {step}")
        stories.append(Story(story["story"], turns))
    return stories


# --- what each action may say ---------------------------------------------------------------------

def _yaml(path: str) -> Dict[str, Any]:
    return yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))


def _responses() -> Dict[str, List[Dict[str, Any]]]:
    return {**_yaml("domain.yml")["responses"], **_yaml("data/faq/responses.yml")["responses"]}


def response_texts(name: str, language: str) -> List[str]:
    """The variations of the response `name` Rasa chooses from in `language`
    (the ones conditioned on it; the unconditioned ones when none is)."""
    variations = _responses()[name]

    def condition(variation) -> Optional[str]:
        for rule in variation.get("condition") or []:
            if rule.get("name") == "language":
                return rule.get("value")
        return None

    chosen = [v for v in variations if condition(v) == language] or [v for v in variations if condition(v) is None]
    return [v["text"] for v in chosen]


def _pattern(template: str) -> "re.Pattern[str]":
    parts = re.split(r"\{[a-z_]+\}", template)
    return re.compile(".+?".join(re.escape(part) for part in parts) + r"\Z", re.DOTALL)


def responses_sent_by_actions() -> List[str]:
    """The domain's responses a custom action sends by name (`utter_message(response=...)`)."""
    names = set()
    for path in (ROOT / "actions").glob("*.py"):
        names.update(re.findall(r'response="(utter_[^"]+)"', path.read_text(encoding="utf-8")))
    return sorted(names)


def action_message_patterns(language: str) -> List["re.Pattern[str]"]:
    """Every message a custom action can send in `language`, its {fields} as wildcards."""
    return [_pattern(t) for t in messages.templates(language)]


# --- playing a story ------------------------------------------------------------------------------

@dataclass
class Conversation:
    """The product's side: `say(sender, text) -> replies` over the REST channel,
    `tracker(sender) -> events`, `sms_code() -> the code last sent`."""
    say: Callable[[str, str], List[Dict[str, Any]]]
    events: Callable[[str], List[Dict[str, Any]]]
    sms_code: Callable[[], str]


def _shown(messages: List[Dict[str, Any]]) -> List[Tuple[str, List[Tuple[str, str]]]]:
    return [(m.get("text") or "", [(b["title"], b["payload"]) for b in m.get("buttons") or []]) for m in messages]


def play(story: Story, product: Conversation, sender: str) -> None:
    """Plays `story` as `sender`; AssertionError at the first turn that is not as the story says."""
    offered, seen = [], 0
    for number, turn in enumerate(story.turns, 1):
        where = f"{story.name}, turn {number} ({turn.text!r})"
        text = turn.text.replace("{sms_code}", product.sms_code()) if "{sms_code}" in turn.text else turn.text
        if text.startswith("/"):
            assert text in [payload for _, buttons in offered for _, payload in buttons], \
                f"{where}: no button the user could press sends {text}; offered: {offered}"
        # A custom payload alone (a hand-over's {"handoff": {...}}) is for the channel, never shown;
        # the REST channel sends it as a message of its own after the text it came with.
        replies = [r for r in product.say(sender, text) if r.get("text") or r.get("buttons") or not r.get("custom")]
        events = product.events(sender)
        # The turn's events: its message (a new session's start may come first), then what it caused.
        at = next((i for i in range(seen, len(events)) if events[i]["event"] == "user"), None)
        assert at is not None, f"{where}: the message is not in the tracker"
        before, new, seen = events[:at], events[at + 1:], len(events)
        parsed = events[at].get("parse_data") or {}

        found = [e["value"] for e in parsed.get("entities") or [] if e.get("entity") == "language"]
        assert found == ([turn.language] if turn.language else []), f"{where}: the detector found {found}"

        if turn.intent:
            intent = parsed["intent"]["name"]
            if intent == "faq":
                intent = parsed["response_selector"]["faq"]["response"]["intent_response_key"]
            assert intent == turn.intent, f"{where}: NLU concluded {intent}"

        actions = [e["name"] for e in new if e["event"] == "action" and e["name"] != "action_listen"]
        assert actions == turn.actions, f"{where}: the actions were {actions}"
        _assert_changes(turn.changes, before, new, where)

        said = _said_by_actions(before, new)
        assert [len(m.get("buttons") or []) for m in replies] == [len(m["buttons"] or []) for _, _, m in said], \
            f"{where}: the user saw {replies}, the tracker has {said}"
        for (action, language, _), reply in zip(said, replies):
            _assert_said_by(action, reply, language, parsed, where)
        if turn.bot:
            assert [r.get("text") for r in replies] == turn.bot, f"{where}: the user saw {replies}"
        offered = _shown(replies)


def _state(events: List[Dict[str, Any]], state: Dict[Tuple[str, str], Any]) -> Iterator[Dict[Tuple[str, str], Any]]:
    """The slots and the active loop after each event (the state before them first)."""
    yield dict(state)
    for event in events:
        if event["event"] == "slot":
            state[("slot", event["name"])] = event["value"]
        elif event["event"] == "active_loop":
            state[("loop", "")] = event["name"]
        yield dict(state)


def _assert_changes(changes, before, new, where) -> None:
    """Each of `changes` holds at some point of the turn, in the story's order
    (`active_loop: x` also when the loop was x already)."""
    states = list(_state(new, list(_state(before, {}))[-1]))
    position = 0
    for kind, name, value in changes:
        key, wanted = (("loop", ""), name) if kind == "loop" else (("slot", name), value)
        matches = [i for i in range(position, len(states)) if states[i].get(key) == wanted]
        assert matches, f"{where}: {kind} {name or ''} = {wanted!r} at no point of the turn; it went " + \
            str([s.get(key) for s in states[position:]])
        position = matches[0]


def _said_by_actions(before, events) -> List[Tuple[str, str, Dict[str, Any]]]:
    """(action, the conversation's language then, message) for each bot message of the turn."""
    language = next((e["value"] for e in reversed(before) if e["event"] == "slot" and e["name"] == "language"), "zh")
    said, action = [], None
    for event in events:
        if event["event"] == "action":
            action = event["name"]
        elif event["event"] == "slot" and event["name"] == "language":
            language = event["value"]
        elif event["event"] == "bot" and (event.get("text") or (event.get("data") or {}).get("buttons")
                                          or not (event.get("data") or {}).get("custom")):
            said.append((action, language, {"text": event.get("text"), "buttons": (event.get("data") or {}).get("buttons")}))
    return said


def _assert_said_by(action: str, message: Dict[str, Any], language: str, parsed: Dict[str, Any], where: str) -> None:
    text = message["text"] or ""
    if action == "utter_faq":
        topic = parsed["response_selector"]["faq"]["response"]["intent_response_key"]
        expected = response_texts(f"utter_{topic}", language)
    elif action.startswith("utter_"):
        expected = response_texts(action, language)
    else:
        sent_by_name = [t for name in responses_sent_by_actions() for t in response_texts(name, language)]
        assert any(p.match(text) for p in action_message_patterns(language)) or text in sent_by_name, \
            f"{where}: {action} said {text!r}, none of the actions' messages in {language}"
        return
    assert text in expected, f"{where}: {action} said {text!r}; in {language} it says one of {expected}"
