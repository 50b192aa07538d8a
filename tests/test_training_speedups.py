"""bot/rasa_ext/training_speedups.py: what `rasa train` computes, computed sooner.

Fingerprints: equal messages and features agree, any change of text, tokens or
feature values is seen. Batches: exactly the arrays Rasa's own code gives.
"""
import contextlib

import numpy as np
import pytest
import scipy.sparse
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.data_generator import RasaDataGenerator
from rasa.utils.tensorflow.feature_array import FeatureArray

from bot.rasa_ext import bootstrap


@contextlib.contextmanager
def training_patches():
    was = [patch.applied() for patch in bootstrap.TRAINING_PATCHES]
    bootstrap.install_training()
    try:
        yield
    finally:
        for patch, applied in zip(bootstrap.TRAINING_PATCHES, was):
            if not applied:
                patch.undo()


def message(text="补卡要钱吗", tokens=("补卡", "要钱", "吗"), values=(1.0, 2.0), intent="faq"):
    msg = Message(data={"text": text, "intent": intent})
    starts = np.cumsum([0] + [len(t) for t in tokens[:-1]])
    msg.set("text_tokens", [Token(t, int(s)) for t, s in zip(tokens, starts)])
    matrix = scipy.sparse.coo_matrix(np.array([[values[0], 0.0, 0.0], [0.0, 0.0, values[1]]]))
    msg.add_features(Features(matrix, "sequence", "text", "CountVectorsFeaturizer"))
    return msg


def test_message_fingerprints_agree_for_equal_messages_and_differ_for_any_change():
    with training_patches():
        assert Message.fingerprint is not bootstrap._originals[
            ("rasa.shared.nlu.training_data.message.Message", "fingerprint")]
        same = {message().fingerprint() for _ in range(3)}
        assert len(same) == 1
        changed = [message(text="补卡要钱么"), message(tokens=("补卡要", "钱", "吗")),
                   message(values=(1.0, 3.0)), message(intent="reissue_fee")]
        prints = [m.fingerprint() for m in changed]
        assert len(set(prints) | same) == len(changed) + 1
        assert message() == message() and len({message(), message()}) == 1  # hash and eq follow


def test_a_text_is_never_taken_for_a_nested_values_fingerprint():
    with training_patches():
        nested = Message(data={"text": "x", "metadata": {"a": 1}})
        from rasa.shared.utils.io import deep_container_fingerprint

        as_text = Message(data={"text": "x", "metadata": deep_container_fingerprint({"a": 1})})
        assert nested.fingerprint() != as_text.fingerprint()


def test_sparse_features_fingerprint_by_values_shape_and_origin():
    def features(values, shape=(2, 3), origin="CountVectorsFeaturizer"):
        dense = np.zeros(shape)
        dense[0, 0], dense[1, 2] = values
        return Features(scipy.sparse.coo_matrix(dense), "sequence", "text", origin)

    with training_patches():
        base = features((1.0, 2.0)).fingerprint()
        assert features((1.0, 2.0)).fingerprint() == base
        assert features((1.0, 2.5)).fingerprint() != base
        assert features((1.0, 2.0), shape=(2, 4)).fingerprint() != base
        assert features((1.0, 2.0), origin="Other").fingerprint() != base


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batch_arrays_are_exactly_rasas(seed):
    rng = np.random.default_rng(seed)
    matrices = []
    for _ in range(17):
        dense = rng.random((int(rng.integers(1, 9)), 40)) * (rng.random((1, 40)) < 0.2)
        matrices.append(scipy.sparse.coo_matrix(dense))
    batch = FeatureArray(np.array(matrices + [scipy.sparse.coo_matrix((3, 40))], dtype=object),
                         number_of_dimensions=3)
    original = RasaDataGenerator._scipy_matrix_to_values(batch)
    with training_patches():
        ours = RasaDataGenerator._scipy_matrix_to_values(batch)
    assert isinstance(RasaDataGenerator.__dict__["_scipy_matrix_to_values"], staticmethod)  # undone as defined
    for a, b in zip(ours, original):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_the_training_entry_installs_them_all():
    with training_patches():
        assert all(patch.applied() for patch in bootstrap.TRAINING_PATCHES)
    # (that the Rasa server's install() leaves them out: tests/test_bootstrap.py)
