"""Rasa 3.6's training, the same model sooner: three hot spots done without the detours.

Installed in `rasa train` by `python -m bot.rasa_ext.train` (bootstrap.TRAINING_PATCHES).
Measured with py-spy on this project's training (3 minutes on 2 cores):

- Rasa's training graph fingerprints every node's inputs and output for its
  training cache, with the cache disabled too; each featurizing node changes
  the messages, so every message is fingerprinted again with its tokens and
  features: 38 s, of it 22 s in `Token.fingerprint` (five md5 digests and a
  JSON dump per token, called by `Message.fingerprint` for each token) and
  10 s in `Features.fingerprint` (a sparse matrix printed as text, one line
  per value, then hashed). Here a message is one digest of one JSON text (its
  tokens as plain arrays in it), a sparse matrix is hashed from its arrays'
  bytes: 4 s. The values differ from Rasa's (a cache written without the
  patch is missed once), but equal inputs give equal fingerprints and
  different ones different.
- Every batch of every epoch turned its examples' sparse features into one
  index array by stacking three arrays per example: 12 s. Here by one
  `np.repeat` and two concatenations; the same arrays.
"""
from __future__ import annotations

import json
from hashlib import md5
from typing import Any, Callable, List, Text

import numpy as np


def message_fingerprint(original: Callable[[Any], Text]) -> Callable[[Any], Text]:
    """Message.fingerprint: one digest of one JSON text of the message's data and features."""
    from rasa.nlu.tokenizers.tokenizer import Token
    from rasa.shared.utils.io import deep_container_fingerprint

    def part(value: Any) -> Any:
        # Tagged, so that a text can never be mistaken for a nested value's fingerprint.
        if isinstance(value, str):
            return ["text", value]
        if isinstance(value, list) and value and all(type(t) is Token and not t.data for t in value):
            return ["tokens", [[t.text, t.start, t.end, t.lemma] for t in value]]
        return ["fingerprint", deep_container_fingerprint(value)]  # Rasa's way for the rest

    def fingerprint(self: Any) -> Text:
        if self._cached_fingerprint is None:
            as_text = json.dumps([sorted([str(key), part(value)] for key, value in self.data.items()),
                                  [features.fingerprint() for features in self.features]],
                                 ensure_ascii=False)
            self._cached_fingerprint = md5(as_text.encode("utf-8")).hexdigest()  # nosec: as Rasa's
        return self._cached_fingerprint

    return fingerprint


def features_fingerprint(original: Callable[[Any], Text]) -> Callable[[Any], Text]:
    """Features.fingerprint: a sparse matrix hashed from its shape, dtype and COO arrays."""

    def fingerprint(self: Any) -> Text:
        if self._cached_fingerprint is None:
            if self.is_dense():
                return original(self)
            matrix = self.features.tocoo()
            digest = md5(json.dumps([self.type, self.origin, self.attribute,
                                     list(matrix.shape), matrix.nnz, str(matrix.dtype)]).encode("utf-8"))  # nosec
            for part in (matrix.row, matrix.col, matrix.data):
                digest.update(part.tobytes())
            self._cached_fingerprint = digest.hexdigest()
        return self._cached_fingerprint

    return fingerprint


def sparse_batch_values(original: Callable) -> Callable:
    """RasaDataGenerator._scipy_matrix_to_values (a static method): the indices stacked at once."""

    def scipy_matrix_to_values(array_of_sparse: Any) -> List[np.ndarray]:
        if array_of_sparse.number_of_dimensions == 4:  # dialogue data: Rasa's own way
            return original(array_of_sparse)
        matrices = [m if m.format == "coo" else m.tocoo() for m in array_of_sparse]
        example = np.repeat(np.arange(len(matrices)), [m.nnz for m in matrices])
        indices = np.stack([example,
                            np.concatenate([m.row for m in matrices]),
                            np.concatenate([m.col for m in matrices])], axis=1)
        data = np.concatenate([m.data for m in matrices])
        shape = (len(matrices), max(m.shape[0] for m in matrices), matrices[0].shape[-1])
        return [indices.astype(np.int64), data.astype(np.float32), np.array(shape, dtype=np.int64)]

    return staticmethod(scipy_matrix_to_values)
