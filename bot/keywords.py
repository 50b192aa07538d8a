"""A keyword ranker of labels, independent of the neural model: BM25 over
the training examples.

The NLU pipeline's answer guard (bot/nlu/answer_guard.py) asks it whether
the words of a message support the label the model chose; the benchmarks
use it as a baseline. Terms are Latin words and digit runs, and pairs of
adjacent Chinese characters (single characters when a message has no pair):
no dictionary to ship, and a typo costs one or two pairs, not a word.

BM25 is computed over an inverted index. A term's weight in an example does
not depend on the message (a message's own term counts are not used), so each
term's postings are kept as two arrays, the examples and their weights: a
message costs an array addition a term (the Python loop over postings took
2.5 ms for a message with the common words "社保卡" or "card").
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np

from bot.text import normalize_text

_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_WORD = re.compile(r"[a-z0-9]+")
K1, B = 1.2, 0.75


def terms(text: str) -> List[str]:
    text = normalize_text(text or "")
    words = _WORD.findall(text)
    runs = _HAN_RUN.findall(text)
    pairs = [run[i:i + 2] for run in runs for i in range(len(run) - 1)]
    singles = [c for run in runs for c in run] if not pairs else []
    return words + pairs + singles


class LabelRanker:
    """Ranks labels by the best BM25 score of any of their examples."""

    def __init__(self, examples: Sequence[Tuple[str, str]]) -> None:
        self.examples = [(text, label) for text, label in examples]
        documents = [Counter(terms(text)) for text, _ in self.examples]
        lengths = [sum(d.values()) for d in documents]
        average_length = (sum(lengths) / len(lengths)) if lengths else 1.0
        postings: Dict[str, List[Tuple[int, int]]] = defaultdict(list)  # term -> (example, count)
        for index, document in enumerate(documents):
            for term, count in document.items():
                postings[term].append((index, count))
        n = len(documents)
        norms = K1 * (1 - B + B * np.array(lengths, dtype=float) / average_length)
        self._weights: Dict[str, Tuple[np.ndarray, np.ndarray]] = {}
        for term, held in postings.items():
            idf = math.log((n - len(held) + 0.5) / (len(held) + 0.5) + 1.0)
            rows = np.array([index for index, _ in held], dtype=np.intp)
            counts = np.array([count for _, count in held], dtype=float)
            self._weights[term] = (rows, idf * counts * (K1 + 1) / (counts + norms[rows]))
        # The examples grouped by label, for each label's best score in one reduction.
        names, label_of = np.unique(np.array([label for _, label in self.examples], dtype=object), return_inverse=True)
        self._by_label = np.argsort(label_of, kind="stable")
        self._label_starts = np.flatnonzero(np.r_[True, np.diff(label_of[self._by_label]) != 0])
        self._label_names = [str(name) for name in names]

    def scores(self, text: str) -> Dict[str, float]:
        """Each label that shares a term with the text, with its best example's score."""
        if not self.examples:
            return {}
        per_example = np.zeros(len(self.examples))
        for term in set(terms(text)):
            weights = self._weights.get(term)
            if weights is not None:
                rows, values = weights
                per_example[rows] += values  # an example appears once in a term's postings
        best = np.maximum.reduceat(per_example[self._by_label], self._label_starts)
        # Every shared term adds a positive weight (idf > 0): a label scores > 0 if and only if it shares one.
        return {self._label_names[label]: float(best[label]) for label in np.flatnonzero(best > 0)}

    def ranking(self, text: str) -> List[Tuple[str, float]]:
        """Labels best first (only those sharing a term with the text)."""
        return sorted(self.scores(text).items(), key=lambda item: item[1], reverse=True)

    def to_examples(self) -> List[Tuple[str, str]]:
        return list(self.examples)

    @classmethod
    def from_examples(cls, examples: Iterable[Sequence[str]]) -> "LabelRanker":
        return cls([(text, label) for text, label in examples])
