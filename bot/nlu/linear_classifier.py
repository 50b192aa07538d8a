"""A second opinion for the answer guard: a linear classifier of the same labels.

A linear support-vector machine (one label against the rest) over character
n-grams (1-3, inside words) and the keyword ranker's terms (bot/keywords.py),
trained on the same examples as the
neural model but sharing nothing else with it: no jieba, no embeddings, no
epochs. Its errors fall elsewhere than the neural model's, so where it says
"out of scope", or does not have the model's label among its best few, the
guard declines (bot/nlu/answer_guard.py). Trains in under a second (a
logistic regression made the same decisions within one example of the tuning
sets but took 16 s). A message is scored by `_Scorer`: the pipeline's
arithmetic for one text, without scikit-learn's input checks, which were
nine tenths of its 2-3 ms.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import joblib
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline, make_union
from sklearn.svm import LinearSVC

from bot.keywords import terms
from bot.text import normalize_text

FILE_NAME = "linear_classifier.joblib"
# Regularisation chosen on the tuning sets (tests/nlu_dev, tests/nlu_heldout): 0.2 and 0.3 made
# the same decisions, 0.1 and 0.5 one or two worse.
C = 0.3


class _Scorer:
    """pipeline.decision_function for one text, as scikit-learn computes it:
    each vectorizer's term counts (1 + log when sublinear), times the terms'
    idf, scaled to unit length; the parts side by side; times the SVM's
    weights, plus its intercepts."""

    def __init__(self, pipeline) -> None:
        union, svm = pipeline.steps[0][1], pipeline.steps[-1][1]
        self.parts = []
        offset = 0
        for _, vectorizer in union.transformer_list:
            assert vectorizer.use_idf and vectorizer.norm == "l2", "scored as built by LinearClassifier.train"
            self.parts.append((vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_,
                               vectorizer.sublinear_tf, offset))
            offset += len(vectorizer.vocabulary_)
        self.weights, self.intercepts = svm.coef_, svm.intercept_

    def __call__(self, text: str) -> np.ndarray:
        columns, values = [], []
        for analyze, vocabulary, idf, sublinear, offset in self.parts:
            counts = Counter(vocabulary[term] for term in analyze(text) if term in vocabulary)
            if not counts:
                continue
            index = np.fromiter(counts.keys(), dtype=np.int64)
            tf = np.fromiter(counts.values(), dtype=np.float64)
            weight = (np.log(tf) + 1 if sublinear else tf) * idf[index]
            columns.append(index + offset)
            values.append(weight / np.sqrt(np.dot(weight, weight)))
        if not columns:
            return self.intercepts.copy()
        return self.weights[:, np.concatenate(columns)] @ np.concatenate(values) + self.intercepts


class LinearClassifier:
    def __init__(self, pipeline) -> None:
        self.pipeline = pipeline
        self._score = _Scorer(pipeline)

    @classmethod
    def train(cls, examples: Sequence[Tuple[str, str]]) -> Optional["LinearClassifier"]:
        """None when there is nothing to learn from (fewer than two labels)."""
        texts = [text for text, _ in examples]
        labels = [label for _, label in examples]
        if len(set(labels)) < 2:
            return None
        features = make_union(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), preprocessor=normalize_text,
                            sublinear_tf=True),
            TfidfVectorizer(analyzer=terms, sublinear_tf=True),
        )
        pipeline = make_pipeline(features, LinearSVC(C=C, random_state=0))
        pipeline.fit(texts, labels)
        return cls(pipeline)

    def ranking(self, text: str) -> List[Tuple[str, float]]:
        """Every label with its score (a distance from the label's boundary, not a probability), best first."""
        pairs = zip(self.pipeline.classes_, (float(s) for s in self._score(text)))
        return sorted(pairs, key=lambda pair: pair[1], reverse=True)

    def save(self, directory: Path) -> None:
        joblib.dump(self.pipeline, directory / FILE_NAME)

    @classmethod
    def load(cls, directory: Path) -> Optional["LinearClassifier"]:
        path = directory / FILE_NAME
        return cls(joblib.load(path)) if path.exists() else None
