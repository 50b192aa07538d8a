"""Fixes to hot paths of Rasa 3.6 that cost more than the work they do.

Installed in the Rasa server process by `bot.rasa_ext.bootstrap.install()`
(`bootstrap.SERVER_PATCHES`; tests/test_rasa_speedups.py holds each against Rasa's own).

- Every custom action's reply is validated with `jsonschema.validate(reply,
  schema)`, which first checks the (constant) schema itself against its
  meta-schema: that check was 43% of the Rasa server's CPU on form turns
  (py-spy, 10 users). The same validation with the schema checked once, and
  compiled (jsonschema_rs) for the replies it finds valid.
- DIET calls its prediction `tf.function` with a fixed input signature, so
  it has one concrete function; yet every call canonicalises its inputs and looks that function up in its trace cache
  again (2.9 of DIET's 3.0 ms call time besides the 1.3 ms of running the
  graph, measured in-process). Here the concrete function is called directly
  with the batch's tensors: the same outputs.
- Rasa runs each graph (NLU, then the policies twice on an FAQ turn) with
  dask's scheduler, written for parallel task graphs: a dozen nodes in a
  chain paid for its bookkeeping at every run. Here the nodes run in the
  same dependency order, one after the other, in the calling thread, as dask's
  synchronous scheduler ran them.
- DIET puts a message's two sparse feature matrices (words, characters)
  side by side with `scipy.sparse.hstack`, whose general block-matrix path took four times what concatenating the two
  matrices' entries takes. The same matrix.
- DIET deep-copied a message's feature matrices (to join them, and to make
  the empty label features) only to replace the copies' matrices. The same
  Features.
- The count-vectors featurizer went through scikit-learn's checks, a CSR
  matrix, a sort and a COO conversion for each of a message's four n-gram
  counts (also in training: `bootstrap.TRAINING_PATCHES`); RulePolicy matched
  its rules against every state of the session, where only the last few can
  change the outcome, reading each rule back from its JSON key every time.
  The same matrices, the same rule keys.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Dict, List, Optional, Sequence, Text, Tuple

from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=None)
def _action_reply_validator():
    from jsonschema.validators import validator_for

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, as jsonschema.validate does on every call
    return cls(schema)


@lru_cache(maxsize=None)
def _compiled_reply_validator():
    """The same schema compiled by jsonschema_rs (Rust), under the draft jsonschema
    picks for it; None if that is not the draft compiled here."""
    import jsonschema_rs
    from jsonschema import Draft202012Validator

    reference = _action_reply_validator()
    if type(reference) is not Draft202012Validator:
        return None
    return jsonschema_rs.Draft202012Validator(reference.schema)


def validate_action_result(self, result: Dict[Text, Any]) -> bool:
    """RemoteAction._validate_action_result, with the schema checked once. A
    valid reply is told valid by the compiled schema (2 ms of Python on a form
    turn's reply, 10 us compiled); an invalid one, or one the compiled
    validator cannot read, is validated by jsonschema, for Rasa's own error."""
    from jsonschema.exceptions import best_match

    compiled = _compiled_reply_validator()
    try:
        if compiled is not None and compiled.is_valid(result):
            return True
    except (ValueError, TypeError, OverflowError):  # not plain JSON data: jsonschema decides
        pass
    error = best_match(_action_reply_validator().iter_errors(result))
    if error is not None:  # the same error and message as RemoteAction's own
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


# --- one concrete TensorFlow function --------------------------------------------------------------

def rasa_predict(original: Callable) -> Callable:
    """RasaModel._rasa_predict calling the model's concrete prediction function
    directly. Rasa's own code runs the first call (it prepares the model and
    traces the function) and any call it would run eagerly."""
    import numpy as np
    import tensorflow as tf
    from keras.utils import tf_utils
    from rasa.shared.constants import DIAGNOSTIC_DATA
    from tensorflow.python.eager import context
    from tensorflow.python.framework import ops

    def tensor(value: Any, dtype: Any) -> Any:
        # An array of the signature's type becomes a tensor without tf.convert_to_tensor's dispatch.
        if type(value) is np.ndarray and value.dtype == dtype.as_numpy_dtype:
            return ops.EagerTensor(value, context.context().device_name, dtype.as_datatype_enum)
        return tf.convert_to_tensor(value, dtype=dtype)

    def _rasa_predict(self: Any, batch_in: Sequence[Any]) -> Dict[Text, Any]:
        function = self._tf_predict_step
        if self._run_eagerly or function is None or not self.prepared_for_prediction:
            return original(self, batch_in)
        # Kept in __dict__ itself: Keras's __setattr__ would track a function set as an attribute.
        cached = self.__dict__.get("_concrete_predict_step")
        if cached is None or cached[0] is not function:  # a new tf.function: look its concrete one up again
            concrete = function.get_concrete_function()  # the one its input signature traced
            (specs,), _ = concrete.structured_input_signature
            cached = self.__dict__["_concrete_predict_step"] = (function, concrete, list(specs))
        _, concrete, specs = cached
        if len(batch_in) != len(specs):
            return original(self, batch_in)
        self._training = False
        tensors = [tensor(value, spec.dtype) for value, spec in zip(batch_in, specs)]
        outputs = tf_utils.sync_to_numpy_or_python_type(concrete._call_flat(tensors, concrete.captured_inputs))
        if DIAGNOSTIC_DATA in outputs:  # as Rasa's
            outputs[DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
        return outputs

    return _rasa_predict


# --- graphs run in order, without dask -------------------------------------------------------------

def _execution_order(runner: Any, targets: Tuple[Text, ...]) -> List[Tuple[Text, List[Text]]]:
    """The nodes the targets need, each after what it needs, with the names of
    its inputs (nodes or run inputs) in the order Rasa's schema gives them."""
    nodes = runner._graph_schema.nodes
    order: List[Tuple[Text, List[Text]]] = []
    seen = set()

    def visit(name: Text) -> None:
        if name in seen or name not in nodes:
            return
        seen.add(name)
        needs = list(nodes[name].needs.values())
        for need in needs:
            visit(need)
        order.append((name, needs))

    for target in targets:
        visit(target)
    return order


def graph_run(original: Callable) -> Callable:
    """DaskGraphRunner.run, the nodes called one after the other."""
    from rasa.engine.exceptions import GraphRunError

    def run(self: Any, inputs: Optional[Dict[Text, Any]] = None,
            targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
        run_targets = tuple(targets if targets else self._graph_schema.target_names)
        orders = self.__dict__.setdefault("_execution_orders", {})
        order = orders.get(run_targets)
        if order is None:
            order = orders[run_targets] = _execution_order(self, run_targets)
        # What dask handed each node: (name, output) of what it needs; a run
        # input as (name, value); the bare name of something nobody provides.
        results: Dict[Text, Any] = {name: (name, value) for name, value in (inputs or {}).items()}
        try:
            for name, needs in order:
                results[name] = self._instantiated_nodes[name](*(results.get(need, need) for need in needs))
        except RuntimeError as error:  # as Rasa's runner
            raise GraphRunError("Error running runner.") from error
        return dict(results[target] for target in run_targets)

    return run


# --- sparse features side by side ----------------------------------------------------------------

def combine_sparse_features(original: Callable) -> Callable:
    """Features._combine_sparse_features: two COO matrices of one dtype joined
    by concatenating their entries (what scipy.sparse.hstack returns: the
    first matrix's entries, then the second's with its columns shifted);
    anything else as Rasa does it."""
    import numpy as np
    import scipy.sparse

    def _combine_sparse_features(self: Any, additional: Any) -> None:
        left, right = self.features, additional.features
        if not (scipy.sparse.isspmatrix_coo(left) and scipy.sparse.isspmatrix_coo(right)
                and left.dtype == right.dtype and left.shape[0] == right.shape[0]):
            return original(self, additional)
        self.features = scipy.sparse.coo_matrix(
            (np.concatenate([left.data, right.data]),
             (np.concatenate([left.row, right.row]), np.concatenate([left.col, right.col + left.shape[1]]))),
            shape=(left.shape[0], left.shape[1] + right.shape[1]))
        self._cached_fingerprint = None

    return _combine_sparse_features


# --- a message's features, copied only where they are kept ------------------------------------------

def combine_features(original: Callable) -> Any:
    """Message._combine_features (a static method): with two or more Features
    to join, Rasa deep-copied the first one, sparse matrix and all, and then
    replaced the copy's matrix with the joined one (`combine_with_features`
    always builds a new matrix, sparse or dense). Here the first is copied
    without its matrix; one Features alone is deep-copied as in Rasa. Twice
    per model and message: 0.9 ms of an FAQ turn's NLU."""
    import copy

    def _combine_features(features: List[Any], featurizers: List[Text]) -> Optional[Any]:
        if len(features) < 2:
            return original(features, featurizers)
        combined = copy.copy(features[0])
        combined.origin = featurizers
        for more in features[1:]:
            combined.combine_with_features(more)  # a new matrix: features[0]'s is left as it was
        return combined

    return staticmethod(_combine_features)


def create_fake_features(original: Callable) -> Callable:
    """model_data_utils._create_fake_features: the empty Features that stand for
    a missing attribute (DIET's label side at prediction), each a shallow copy of an example Features with an empty
    matrix, instead of a deep copy of the example's matrix that is then replaced."""
    import copy

    import numpy as np
    import scipy.sparse

    def _create_fake_features(all_features: List[List[List[Any]]]) -> List[Any]:
        example_features = next(iter([
            list_of_features
            for list_of_list_of_features in all_features
            for list_of_features in list_of_list_of_features
            if list_of_features is not None
        ]))
        fake_features = []
        for features in example_features:
            new = copy.copy(features)
            new.origin = copy.copy(features.origin)  # a list after _combine_features: not shared
            width, dtype = features.features.shape[-1], features.features.dtype
            if features.is_dense():
                new.features = np.zeros((0, width), dtype)
            if features.is_sparse():
                new.features = scipy.sparse.coo_matrix((0, width), dtype)
            new._cached_fingerprint = None
            fake_features.append(new)
        return fake_features

    return _create_fake_features


# --- counting a message's n-grams --------------------------------------------------------------------

class _NgramCounter:
    """What a fitted CountVectorizer's transform, then Rasa's sort_indices() and
    tocoo(), give for a few documents, counted with the vectorizer's own
    analyzer and vocabulary: scikit-learn's checks, its CSR matrix and the
    conversion cost more than the counting (four transforms a message, 15% of
    the training time)."""

    def __init__(self, vectorizer: Any) -> None:
        vectorizer._check_vocabulary()  # sets vocabulary_ from a given vocabulary; raises as transform does
        self.vocabulary = vectorizer.vocabulary_
        self.analyze = vectorizer.build_analyzer()
        self.binary = vectorizer.binary
        self.dtype = vectorizer.dtype

    @classmethod
    def of(cls, vectorizer: Any) -> "_NgramCounter":
        counter = vectorizer.__dict__.get("_ngram_counter")
        # A vectorizer fitted again (training) has a new vocabulary_: count with that one.
        if counter is None or counter.vocabulary is not vectorizer.__dict__.get("vocabulary_"):
            counter = vectorizer.__dict__["_ngram_counter"] = cls(vectorizer)
        return counter

    def coo(self, documents: List[Text]) -> Any:
        import numpy as np
        import scipy.sparse

        rows: List[int] = []
        columns: List[int] = []
        values: List[int] = []
        vocabulary = self.vocabulary
        for row, document in enumerate(documents):
            counts: Dict[int, int] = {}
            for feature in self.analyze(document):
                column = vocabulary.get(feature)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            for column in sorted(counts):  # sort_indices()
                rows.append(row)
                columns.append(column)
                values.append(1 if self.binary else counts[column])
        return scipy.sparse.coo_matrix(
            (np.array(values, dtype=self.dtype), (np.array(rows, dtype=np.int32), np.array(columns, dtype=np.int32))),
            shape=(len(documents), len(vocabulary)))


def count_vectors_features(original: Callable) -> Callable:
    """CountVectorsFeaturizer._create_features with the n-grams counted by
    _NgramCounter: the same sequence and sentence matrices."""
    from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES

    def _create_features(self: Any, attribute: Text, all_tokens: List[List[Text]]) -> Tuple[List[Any], List[Any]]:
        vectorizer = self.vectorizers.get(attribute)
        if not vectorizer:
            return [None], [None]
        sequence_features: List[Any] = []
        sentence_features: List[Any] = []
        for tokens in all_tokens:
            if not tokens:  # nothing to featurize (and a vectorizer never fitted is not asked)
                sequence_features.append(None)
                sentence_features.append(None)
                continue
            counter = _NgramCounter.of(vectorizer)
            sequence_features.append(counter.coo(tokens))
            sentence_features.append(counter.coo([" ".join(tokens)])
                                     if attribute in DENSE_FEATURIZABLE_ATTRIBUTES else None)
        return sequence_features, sentence_features

    return _create_features


# --- matching rules ----------------------------------------------------------------------------------

def possible_rule_keys(original: Callable) -> Callable:
    """RulePolicy._get_possible_keys, stopping where it stops changing: it
    filters the rules' keys against the conversation's states from the latest
    back, and a rule is applicable at every state further back than its own
    length, so once the states walked outnumber the longest remaining rule's,
    the rest of the history (every turn of the session) keeps every key."""

    def _get_possible_keys(self: Any, lookup: Dict[Text, Text], states: List[Dict]) -> set:
        possible_keys = set(lookup.keys())
        for i, state in enumerate(reversed(states)):
            if i >= max((len(self._rule_key_to_state(key)) for key in possible_keys), default=0):
                break
            possible_keys = {key for key in possible_keys if self._is_rule_applicable(key, i, state)}
        return possible_keys

    return _get_possible_keys


def parsed_rule_keys(original: Callable) -> Callable:
    """RulePolicy._rule_key_to_state (a rule's key, JSON, read back into its
    states) remembered for each key: RulePolicy read every key again for every
    state it matched the key against, twice a prediction (0.1 ms of its 0.25).
    The states are shared by the calls; RulePolicy only reads them."""
    return staticmethod(lru_cache(maxsize=4096)(original))
