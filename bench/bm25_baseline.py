"""A keyword baseline: BM25 over jieba tokens, one document per label.

Every label of the training data (each FAQ topic `faq/<key>`, each task and
small-talk intent, `out_of_scope`) becomes one document made of its training
examples; a message gets the label of the best-scoring document, or
`out_of_scope` when even that score is below a threshold chosen on the
training data. Tokens as the NLU pipeline makes them:
normalised text, jieba with the project's dictionary.
"""
from __future__ import annotations

import time
from collections import defaultdict
from typing import Dict, List, Sequence, Tuple

import jieba
from rank_bm25 import BM25Okapi

from bench.evaluation import OUT_OF_SCOPE, load_examples
from bot.core.paths import DATA
from bot.text import normalize_text

_tokenizer = jieba.Tokenizer()
_tokenizer.load_userdict(str(DATA / "jieba" / "userdict.txt"))


def tokens(text: str) -> List[str]:
    return [t for t in _tokenizer.lcut(normalize_text(text)) if t.strip() and any(c.isalnum() for c in t)]


def training_examples() -> List[Tuple[str, str]]:
    examples = []
    for path in sorted((DATA / "nlu").glob("*.yml")):
        examples += load_examples(path)
    return examples


class Bm25Classifier:
    def __init__(self, examples: Sequence[Tuple[str, str]]) -> None:
        started = time.perf_counter()
        by_label: Dict[str, List[str]] = defaultdict(list)
        for text, label in examples:
            by_label[label] += tokens(text)
        self.labels = sorted(by_label)
        self.index = BM25Okapi([by_label[label] for label in self.labels])
        self.threshold = 0.0
        self.threshold = self._calibrate(examples)
        self.training_seconds = time.perf_counter() - started

    def scores(self, text: str) -> List[float]:
        return list(self.index.get_scores(tokens(text)))

    def predict(self, text: str) -> str:
        scores = self.scores(text)
        best = max(range(len(scores)), key=scores.__getitem__)
        return self.labels[best] if scores[best] >= self.threshold else OUT_OF_SCOPE

    def _calibrate(self, examples: Sequence[Tuple[str, str]]) -> float:
        """The threshold that classifies the training examples best (each
        scored against the index, which holds it: an optimistic estimate)."""
        scored = []
        for text, label in examples:
            scores = self.scores(text)
            best = max(range(len(scores)), key=scores.__getitem__)
            scored.append((scores[best], self.labels[best], label))
        candidates = sorted({round(s, 2) for s, _, _ in scored})[:200]

        def hits(threshold: float) -> int:
            return sum((p if s >= threshold else OUT_OF_SCOPE) == g for s, p, g in scored)

        return max([0.0] + candidates, key=hits)
