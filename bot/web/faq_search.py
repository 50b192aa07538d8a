"""Ranking knowledge-base topics for a staff member's question.

First choice: the trained NLU model's own ranking of the FAQ topics (its
parse's `response_selector`, the same ranking that answers citizens), through Rasa's /model/parse. When Rasa is
unreachable, or the model says the question is out of scope or is not sure,
a keyword ranking takes over: BM25 over jieba tokens of every topic's title,
question and answer in both languages. A confident model's few topics are
followed by the keywords' other topics. Each result says which ranked it.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import jieba
from rank_bm25 import BM25Okapi

from bot.core import knowledge_base
from bot.core.paths import DATA
from bot.text import LANGUAGES, detect_language, normalize_text
from bot.web.rasa_client import RasaClient, RasaUnavailable

jieba.setLogLevel(logging.WARNING)  # its INFO/DEBUG lines about building the dictionary are noise

FAQ_INTENT = "faq"
OUT_OF_SCOPE_INTENTS = {"out_of_scope", "nlu_fallback"}
# The top FAQ topic's selector confidence below which the keywords decide: the
# confidence at which the assistant itself answers a citizen (config.yml, AnswerGuard's
# FAQ threshold); with 27 topics even "补办的社保卡需要重新激活吗" scores 0.48.
MIN_MODEL_CONFIDENCE = 0.4
MIN_RESULT_CONFIDENCE = 0.01  # model results below this are noise, not answers
MAX_RESULTS = 5
JIEBA_DICTIONARY = DATA / "jieba" / "userdict.txt"

_WORD = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]")
# Words in nearly every question, which would otherwise match anything to anything.
STOP_WORDS = frozenset(
    "的 了 吗 呢 吧 啊 是 我 我的 你 您 要 需要 什么 怎么 怎么办 怎样 如何 哪些 哪里 时候 什么时候 可以 能 能否 一下 请问 有 和 在 去 办 "
    "a an the to of in on for and or is are be do does did i my me you your it can how what when where which "
    "why need needs should with at by from this that there".split()
)


def guess_language(text: str) -> str:
    return detect_language(text) or "en"


@dataclass(frozen=True)
class Ranked:
    key: str
    score: float


class KeywordIndex:
    """BM25 over the knowledge base, one document per topic (zh + en)."""

    def __init__(self, topics: Dict[str, knowledge_base.Topic]) -> None:
        self.tokenizer = jieba.Tokenizer()
        if JIEBA_DICTIONARY.exists():
            self.tokenizer.load_userdict(str(JIEBA_DICTIONARY))
        self.keys = list(topics)
        documents = []
        for key in self.keys:
            text = " ".join(
                f"{e.title} {e.title} {e.question} {e.answer}"  # the title counts twice: it names the topic
                for e in topics[key].entries.values()
            )
            documents.append(self.tokens(text))
        self.bm25 = BM25Okapi(documents)

    def tokens(self, text: str) -> List[str]:
        text = normalize_text(text)  # as the NLU pipeline does
        return [t for t in self.tokenizer.lcut_for_search(text) if _WORD.search(t) and t not in STOP_WORDS]

    def rank(self, query: str) -> List[Ranked]:
        words = self.tokens(query)
        if not words:
            return []
        scores = self.bm25.get_scores(words)
        ranked = sorted((Ranked(k, float(s)) for k, s in zip(self.keys, scores) if s > 0),
                        key=lambda r: r.score, reverse=True)
        return ranked[:MAX_RESULTS]


def model_ranking(parse_data: Dict[str, Any], topics: Dict[str, Any]) -> Optional[List[Ranked]]:
    """The model's FAQ ranking, or None when the model is out of scope or unsure."""
    intent = (parse_data.get("intent") or {}).get("name")
    if intent in OUT_OF_SCOPE_INTENTS:
        return None
    selector = (parse_data.get("response_selector") or {}).get(FAQ_INTENT) or {}
    ranked = []
    for item in selector.get("ranking") or []:
        key = str(item.get("intent_response_key") or "").split("/", 1)[-1]
        confidence = float(item.get("confidence") or 0.0)
        if key in topics and confidence >= MIN_RESULT_CONFIDENCE:
            ranked.append(Ranked(key, confidence))
    ranked.sort(key=lambda r: r.score, reverse=True)
    if not ranked or ranked[0].score < MIN_MODEL_CONFIDENCE:
        return None
    return ranked[:MAX_RESULTS]


def topic_view(topic: knowledge_base.Topic, languages: Sequence[str]) -> List[Dict[str, Any]]:
    return [
        {"language": lang, "title": e.title, "question": e.question, "answer": e.answer, "legal_ref": e.legal_ref,
         "source": e.source}
        for lang, e in ((lang, topic.entry(lang)) for lang in languages)
    ]


class FaqSearch:
    def __init__(self, rasa: Optional[RasaClient], topics: Optional[Dict[str, knowledge_base.Topic]] = None) -> None:
        self.rasa = rasa
        self.topics = topics if topics is not None else knowledge_base.load()
        self.keywords = KeywordIndex(self.topics)

    async def search(self, query: str, language: Optional[str] = None) -> Dict[str, Any]:
        """Up to MAX_RESULTS topics: the model's ranking, then (or, when the
        model declines, only) the keyword ranking's other topics; each result
        says which method ranked it, `method` says which ranked the first."""
        language = language or guess_language(query)
        reason, ranked = None, None
        if self.rasa is not None:
            try:
                ranked = model_ranking(await self.rasa.parse(query), self.topics)
                reason = None if ranked is not None else "model_unsure"
            except RasaUnavailable:
                reason = "model_unavailable"
        else:
            reason = "model_unavailable"
        results = [(r, "model") for r in ranked or []]
        seen = {r.key for r, _ in results}
        results += [(r, "keywords") for r in self.keywords.rank(query) if r.key not in seen]
        languages = [language] + [lang for lang in LANGUAGES if lang != language]
        return {
            "query": query,
            "language": language,
            "method": "model" if ranked else "keywords",
            "fallback_reason": reason,
            "results": [
                {"key": r.key, "score": round(r.score, 4), "method": method,
                 "answers": topic_view(self.topics[r.key], languages)}
                for r, method in results[:MAX_RESULTS]
            ],
        }
