"""The "did you mean" buttons of the fallback, when NLU is not confident.

Stage one of the two-stage fallback (actions/fallback.py) asks "did you mean
...?" with the most likely topics as buttons. FAQ topics are ranked by intent
confidence x response selector confidence; dialogue intents by intent
confidence. Each suggestion carries a human-readable title in the user's
language (a dialogue intent's: `intent_<name>` in actions/messages.yml) and
the payload that, sent back, leads straight to it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List

from actions import messages
from bot.core import knowledge_base

FAQ_INTENT = "faq"

# The dialogue intents worth offering as a button. Small talk (greet, thank,
# affirm...) and fallbacks are never suggested.
DIALOGUE_INTENTS = ("check_card_status", "activate_card", "report_lost_card", "reissue_progress", "human_handoff")


@dataclass(frozen=True)
class Suggestion:
    label: str  # "faq/<key>" or a dialogue intent name
    title: str
    payload: str
    score: float


def rank(parse_data: Dict[str, Any], language: str) -> List[Suggestion]:
    """All candidates from a parse result, best first."""
    topics = knowledge_base.load()
    selector = (parse_data.get("response_selector") or {}).get(FAQ_INTENT) or {}
    faq_ranking = selector.get("ranking") or []
    suggestions = []
    for intent in parse_data.get("intent_ranking") or []:
        name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
        if name == FAQ_INTENT:
            for item in faq_ranking:
                key = (item.get("intent_response_key") or "").split("/", 1)[-1]
                if key in topics:
                    entry = topics[key].entry(language)
                    suggestions.append(
                        Suggestion(
                            f"faq/{key}",
                            entry.title,
                            entry.question,
                            confidence * float(item.get("confidence") or 0.0),
                        )
                    )
        elif name in DIALOGUE_INTENTS:
            title = messages.text(f"intent_{name}", language)
            suggestions.append(Suggestion(name, title, f"/{name}", confidence))
    return sorted(suggestions, key=lambda s: s.score, reverse=True)


def title(label: str, language: str) -> str:
    """A topic's human-readable name: an FAQ topic's title, a task's button
    title; "" for what is not a topic (small talk, fallbacks)."""
    if label.startswith(FAQ_INTENT + "/"):
        topic = knowledge_base.load().get(label.split("/", 1)[1])
        return topic.entry(language).title if topic else ""
    return messages.text(f"intent_{label}", language) if label in DIALOGUE_INTENTS else ""


def buttons(parse_data: Dict[str, Any], language: str, limit: int = 2) -> List[Dict[str, str]]:
    """The "did you mean" buttons: the top `limit` candidates and "none of these"."""
    top = rank(parse_data, language)[:limit]
    return [{"title": s.title, "payload": s.payload} for s in top] + [
        {"title": messages.text("none_of_these", language), "payload": "/out_of_scope"}
    ]
