"""Read access to the FAQ knowledge base (data/faq/responses.yml).

The file is Rasa's own responses file for the retrieval intent `faq`; this
module turns it into topics with a title, a canonical question, an answer,
an optional legal reference and the answer's source per language, for the code
that needs more than Rasa's response selection (the "did you mean" buttons,
the staff lookup).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional

import yaml

from bot.core.paths import KNOWLEDGE_BASE
from bot.text import DEFAULT_LANGUAGE, LANGUAGES

RESPONSE_PREFIX = "utter_faq/"
# Where an answer's content comes from (metadata `source`; the staff page names them).
SOURCES = (
    "source_text",  # the seed text the FAQ was built from
    "measures_article_16",  # Article 16 of the Measures on the Administration of Social Security Cards
    "national_service",  # a national public service: the 12333 hotline, the electronic card
    "general_practice",  # true everywhere in general; the details are local rules
)


@dataclass(frozen=True)
class Entry:
    """One language's version of a topic."""

    title: str
    question: str
    answer: str
    legal_ref: Optional[str]
    source: str  # one of SOURCES


@dataclass(frozen=True)
class Topic:
    key: str
    entries: Dict[str, Entry]  # language -> entry

    def entry(self, language: str) -> Entry:
        return self.entries.get(language) or self.entries[DEFAULT_LANGUAGE]


def _language_of(variation: dict) -> str:
    for condition in variation.get("condition") or []:
        if condition.get("name") == "language":
            return condition["value"]
    return DEFAULT_LANGUAGE


def parse(document: dict) -> Dict[str, Topic]:
    """Topics by key from a parsed responses document; raises on a gap."""
    topics = {}
    for name, variations in (document.get("responses") or {}).items():
        if not name.startswith(RESPONSE_PREFIX):
            continue
        key = name[len(RESPONSE_PREFIX):]
        entries = {}
        for variation in variations:
            meta = variation.get("metadata") or {}
            language = _language_of(variation)
            if meta.get("source") not in SOURCES:
                raise ValueError(f"FAQ topic {key!r} ({language}) has source {meta.get('source')!r}, "
                                 f"not one of {list(SOURCES)}")
            entries[language] = Entry(
                title=meta["title"],
                question=meta["question"],
                answer=variation["text"].strip(),
                legal_ref=meta.get("legal_ref"),
                source=meta["source"],
            )
        missing = set(LANGUAGES) - set(entries)
        if missing:
            raise ValueError(f"FAQ topic {key!r} has no answer in {sorted(missing)}")
        topics[key] = Topic(key=key, entries=entries)
    return topics


@lru_cache(maxsize=None)
def load(path: Path = KNOWLEDGE_BASE) -> Dict[str, Topic]:
    with open(path, encoding="utf-8") as f:
        return parse(yaml.safe_load(f))
