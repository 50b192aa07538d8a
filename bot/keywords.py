"""A keyword ranker of labels, independent of the neural model: BM25 over
the training examples.

The NLU pipeline's answer guard (bot/nlu/answer_guard.py) asks it whether
the words of a message support the label the model chose; the benchmarks
use it as a baseline. Terms are Latin words and digit runs, and pairs of
adjacent Chinese characters (single characters when a message has no pair):
no dictionary to ship, and a typo costs one or two pairs, not a word.

BM25 is computed over an inverted index, so a message costs time in
proportion to the examples sharing one of its terms, not to all of them.
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from typing import Dict, Iterable, List, Sequence, Tuple

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
        self.labels = [label for _, label in self.examples]
        documents = [Counter(terms(text)) for text, _ in self.examples]
        self.lengths = [sum(d.values()) for d in documents]
        self.average_length = (sum(self.lengths) / len(self.lengths)) if self.lengths else 1.0
        self.postings: Dict[str, List[Tuple[int, int]]] = defaultdict(list)
        for index, document in enumerate(documents):
            for term, count in document.items():
                self.postings[term].append((index, count))
        n = len(documents)
        self.idf = {
            term: math.log((n - len(p) + 0.5) / (len(p) + 0.5) + 1.0) for term, p in self.postings.items()
        }

    def scores(self, text: str) -> Dict[str, float]:
        """Each label that shares a term with the text, with its best example's score."""
        per_example: Dict[int, float] = defaultdict(float)
        for term in set(terms(text)):
            idf = self.idf.get(term)
            if idf is None:
                continue
            for index, count in self.postings[term]:
                norm = K1 * (1 - B + B * self.lengths[index] / self.average_length)
                per_example[index] += idf * count * (K1 + 1) / (count + norm)
        best: Dict[str, float] = {}
        for index, score in per_example.items():
            label = self.labels[index]
            if score > best.get(label, 0.0):
                best[label] = score
        return best

    def ranking(self, text: str) -> List[Tuple[str, float]]:
        """Labels best first (only those sharing a term with the text)."""
        return sorted(self.scores(text).items(), key=lambda item: item[1], reverse=True)

    def to_examples(self) -> List[Tuple[str, str]]:
        return list(self.examples)

    @classmethod
    def from_examples(cls, examples: Iterable[Sequence[str]]) -> "LabelRanker":
        return cls([(text, label) for text, label in examples])
