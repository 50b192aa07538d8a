"""The fallback's words and buttons, when NLU is not confident.

Stage one of the two-stage fallback asks "did you mean ...?" with the most
likely topics as buttons; stage two asks to rephrase and offers a human; when
that fails too, the give-up message offers a human again. FAQ topics are ranked by intent confidence x response selector
confidence; dialogue intents by intent confidence. Each suggestion carries a
human-readable title in the user's language and the payload that, sent back,
leads straight to it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List

from bot import knowledge_base

FAQ_INTENT = "faq"

# The dialogue intents worth offering as a button, with their labels. Small
# talk (greet, thank, affirm...) and fallbacks are never suggested.
DIALOGUE_LABELS: Dict[str, Dict[str, str]] = {
    "check_card_status": {"zh": "查询我的社保卡状态", "en": "Check my card's status"},
    "activate_card": {"zh": "激活我的社保卡", "en": "Activate my card"},
    "report_lost_card": {"zh": "挂失我的社保卡", "en": "Report my card lost"},
    "reissue_progress": {"zh": "查询补卡进度", "en": "Follow my replacement application"},
    "human_handoff": {"zh": "转人工客服", "en": "Talk to a human"},
}

NONE_OF_THESE = {"zh": "都不是", "en": "None of these"}
DID_YOU_MEAN = {"zh": "您是想问下面哪一个？", "en": "Did you mean one of these?"}
REPHRASE = {
    "zh": "抱歉，我没太明白。您能换个说法再问一次吗？也可以为您转接人工客服。",
    "en": "Sorry, I didn't quite understand. Could you say it another way? "
    "Or I can hand you over to a member of staff.",
}
GIVE_UP = {
    "zh": "抱歉，这个问题我还是无法解答。需要为您转接人工客服吗？您也可以问我社保卡补办、激活、使用方面的问题。",
    "en": "Sorry, I still can't help with that. Would you like to talk to a member of staff? "
    "You can also ask me about reissuing, activating or using a social security card.",
}


def text(texts: Dict[str, str], language: str) -> str:
    return texts.get(language) or texts["zh"]


def human_button(language: str) -> Dict[str, str]:
    label = DIALOGUE_LABELS["human_handoff"]
    return {"title": text(label, language), "payload": "/human_handoff"}


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
        elif name in DIALOGUE_LABELS:
            title = text(DIALOGUE_LABELS[name], language)
            suggestions.append(Suggestion(name, title, f"/{name}", confidence))
    return sorted(suggestions, key=lambda s: s.score, reverse=True)


def buttons(parse_data: Dict[str, Any], language: str, limit: int = 2) -> List[Dict[str, str]]:
    """The "did you mean" buttons: the top `limit` candidates and "none of these"."""
    top = rank(parse_data, language)[:limit]
    return [{"title": s.title, "payload": s.payload} for s in top] + [
        {"title": text(NONE_OF_THESE, language), "payload": "/out_of_scope"}
    ]
