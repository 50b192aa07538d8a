"""bot/rasa_ext/speedups.py: the same verdicts as Rasa's own validation, and the same
parses and replies as Rasa's own prediction and graph runs, faster."""
import asyncio
import contextlib
import json

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.rasa_ext import bootstrap, speedups

GOOD = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}
BAD = [{"events": "not a list"}, {"responses": "x"}, {"events": [1]}, {"events": [{"no_event_key": 1}]}, {"events": [{"event": 5}]}]
PATCH = next(p for p in bootstrap.SERVER_PATCHES if p.name == "_validate_action_result")


def test_installed_validation_agrees_with_rasas():
    was_applied = PATCH.applied()  # an earlier test may have created our tracker store
    PATCH.undo()
    original = RemoteAction._validate_action_result
    action = RemoteAction("action_x", None)
    assert original(action, GOOD) is True
    PATCH.apply()
    try:
        assert RemoteAction._validate_action_result is speedups.validate_action_result
        assert action._validate_action_result(GOOD) is True
        for reply in BAD:
            with pytest.raises(ValidationError) as ours:
                action._validate_action_result(reply)
            with pytest.raises(ValidationError) as theirs:
                original(action, reply)
            assert ours.value.message == theirs.value.message
            assert "Failed to validate Action server response" in ours.value.message
    finally:
        if not was_applied:
            PATCH.undo()


def test_the_compiled_reply_schema_agrees_with_jsonschema_on_any_reply():
    """The compiled validator only says "valid" (invalid ones go to jsonschema for
    Rasa's error): it must say so exactly when jsonschema does."""
    import random

    from jsonschema.validators import validator_for

    schema = RemoteAction.action_response_format_spec()
    reference = validator_for(schema)(schema)
    compiled = speedups._compiled_reply_validator()
    assert compiled is not None
    rng = random.Random(3)
    atoms = [None, True, 0, 1.5, -3, "", "slot", "text", [], {}, "utter_x", 10 ** 30]

    def value(depth):
        kind = rng.random()
        if depth > 2 or kind < 0.4:
            return rng.choice(atoms)
        if kind < 0.7:
            return [value(depth + 1) for _ in range(rng.randint(0, 3))]
        keys = ["event", "name", "value", "text", "buttons", "timestamp", "events", "responses", "x"]
        return {rng.choice(keys): value(depth + 1) for _ in range(rng.randint(0, 4))}

    replies = [GOOD, *BAD, {}, {"events": [], "responses": []}]
    replies += [{"events": [{"event": rng.choice(["slot", "bot", "active_loop", "followup", "x", 3]),
                             **{k: value(2) for k in rng.sample(["name", "value", "text", "timestamp"], 2)}}
                            for _ in range(rng.randint(0, 4))],
                 "responses": [value(1) for _ in range(rng.randint(0, 2))]} for _ in range(300)]
    replies += [value(0) for _ in range(300)]
    valid = 0
    for reply in replies:
        expected = reference.is_valid(reply)
        valid += expected
        try:
            assert compiled.is_valid(reply) == expected, reply
        except (ValueError, TypeError, OverflowError):
            pass  # not read by the compiled validator: jsonschema decides (validate_action_result)
    assert 20 < valid < len(replies) - 20  # both kinds were tried


# --- the Rasa server's hot path: the same answers by a shorter way ---------------------------------

HOT_PATH = [p for p in bootstrap.SERVER_PATCHES if p.name in (
    "_rasa_predict", "run", "_combine_sparse_features", "_combine_features", "_create_fake_features",
    "_create_features", "_get_possible_keys", "_rule_key_to_state")]
MESSAGES = ["补办的社保卡需要重新激活吗?", "Does my reissued card need to be activated?", "补卡要钱吗",
            "what is 12333", "12333", "谢谢", "hello", "社保卡丢了", "how do I get a pension", "asdfgh", ""]


@contextlib.contextmanager
def hot_path(applied: bool):
    """Our hot-path patches applied or not; afterwards as they were."""
    were = [p for p in HOT_PATH if p.applied()]
    for patch in HOT_PATH:
        patch.apply() if applied else patch.undo()
    try:
        yield
    finally:
        for patch in HOT_PATH:
            patch.apply() if patch in were else patch.undo()


@pytest.fixture(scope="module")
def agent():
    from bench.evaluation import load_agent
    from tests.support.product import MODEL

    return load_agent(str(MODEL))


async def _parses_and_replies(agent, sender: str):
    parses = [await agent.parse_message(text) for text in MESSAGES]
    replies = [[{k: v for k, v in reply.items() if k != "recipient_id"}
                for reply in await agent.handle_text(text, sender_id=f"{sender}-{n}")]
               for n, text in enumerate(MESSAGES)]
    return parses, replies


@pytest.mark.model
def test_the_hot_path_patches_give_rasas_own_parses_and_replies(agent):
    with hot_path(False):
        theirs = asyncio.run(_parses_and_replies(agent, "rasa"))
    with hot_path(True):
        assert type(agent.processor.graph_runner).run.__module__ == speedups.__name__
        ours = asyncio.run(_parses_and_replies(agent, "ours"))
        again = asyncio.run(_parses_and_replies(agent, "again"))  # the cached concrete function and order
    assert ours == theirs == again
    parses, replies = ours
    assert parses[0]["response_selector"]["faq"]["response"]["intent_response_key"] == "faq/reissue_needs_activation"
    assert "激活" in replies[0][0]["text"]


@pytest.mark.model
def test_a_failing_graph_node_fails_the_run_as_in_rasa(agent, monkeypatch):
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier

    def broken(component, messages):
        raise ValueError("the node failed")

    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    diet = next(node for node in nodes if node._component_class is DIETClassifier)
    monkeypatch.setattr(diet, "_fn", broken)
    raised = []
    for applied in (False, True):
        with hot_path(applied), pytest.raises(Exception) as error:
            asyncio.run(agent.parse_message("补卡要带什么材料"))
        raised.append((type(error.value), str(error.value), type(error.value.__cause__)))
    assert raised[0] == raised[1]
    assert raised[0][2] is ValueError


def test_sparse_features_are_joined_as_scipy_joins_them():
    import numpy as np
    import scipy.sparse
    from rasa.shared.nlu.training_data.features import Features

    with hot_path(False):
        rasas = Features._combine_sparse_features
    combine = speedups.combine_sparse_features(rasas)
    rng = np.random.default_rng(0)

    def features(matrix):
        return Features(matrix, "sequence", "text", "CountVectorsFeaturizer")

    def coo(rows, columns, density):
        return scipy.sparse.random(rows, columns, density=density, format="coo", dtype=np.float32, random_state=rng)

    pairs = [(coo(7, 300, 0.05), coo(7, 5000, 0.01)), (coo(1, 40, 0.0), coo(1, 9, 0.5)),
             (coo(3, 10, 0.3), coo(3, 10, 0.0)), (coo(4, 20, 0.2).tocsr(), coo(4, 30, 0.2))]
    for left, right in pairs:
        ours, theirs = features(left), features(left)
        combine(ours, features(right))
        rasas(theirs, features(right))
        a, b = ours.features, theirs.features
        assert (a.format, a.shape, a.dtype) == (b.format, b.shape, b.dtype)
        assert (a.row.dtype, a.col.dtype) == (b.row.dtype, b.col.dtype)
        for x, y in ((a.row, b.row), (a.col, b.col), (a.data, b.data)):
            assert np.array_equal(x, y)
    with pytest.raises(ValueError):  # rows that do not match: Rasa's error
        combine(features(coo(2, 5, 0.5)), features(coo(3, 5, 0.5)))


def test_ngrams_are_counted_as_scikit_learn_and_rasa_count_them():
    import numpy as np
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
    from sklearn.feature_extraction.text import CountVectorizer

    with hot_path(False):
        rasas = CountVectorsFeaturizer._create_features
    ours = speedups.count_vectors_features(rasas)
    corpus = ["补办 的 社保卡 需要 重新 激活 吗", "does my reissued card need to be activated", "补卡 要 钱 吗",
              "what is 12333", "card card card lost", "社保卡 丢 了 怎么办 怎么办"]
    tokens = [text.split() for text in corpus] + [[], ["unseen", "词语"], ["card"]]
    for kind in (dict(analyzer="word", token_pattern=r"(?u)\b\w+\b", ngram_range=(1, 2)),
                 dict(analyzer="char_wb", ngram_range=(1, 3)), dict(analyzer="word", binary=True)):
        fitted = CountVectorizer(**kind).fit(corpus)
        given = CountVectorizer(**kind, vocabulary=fitted.vocabulary_)  # as Rasa loads a model: not fitted
        for vectorizer in (fitted, given):
            featurizer = type("Featurizer", (), {"vectorizers": {"text": vectorizer, "intent": vectorizer}})()
            for attribute in ("text", "intent"):
                a, b = ours(featurizer, attribute, tokens), rasas(featurizer, attribute, tokens)
                for x, y in zip(a[0] + a[1], b[0] + b[1]):
                    assert (x is None) == (y is None)
                    if x is None:
                        continue
                    assert (x.format, x.shape, x.dtype, x.row.dtype, x.col.dtype) == \
                           (y.format, y.shape, y.dtype, y.row.dtype, y.col.dtype)
                    for u, v in ((x.row, y.row), (x.col, y.col), (x.data, y.data)):
                        assert np.array_equal(u, v)
    featurizer = type("Featurizer", (), {"vectorizers": {}})()
    assert ours(featurizer, "text", tokens) == ([None], [None])


@pytest.mark.model
def test_rule_keys_are_those_rasas_full_walk_keeps(agent):
    """At every point of conversations of every kind of turn, the same rule keys as
    Rasa's walk over every state of the session."""
    from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
    from rasa.shared.core.trackers import DialogueStateTracker

    from tests.support.conversation_events import DOMAIN, KINDS, conversation

    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    policy = next(node._component for node in nodes if node._component_class is RulePolicy)
    with hot_path(False):
        theirs = RulePolicy._get_possible_keys
    ours = speedups.possible_rule_keys(theirs)
    compared = 0
    for seed in range(3):
        tracker = DialogueStateTracker("rules", DOMAIN.slots)
        for event in conversation(seed, 30, KINDS):
            tracker.update(event)
            states = policy._prediction_states(tracker, DOMAIN)
            for lookup in (policy.lookup[RULES], policy.lookup[RULES_FOR_LOOP_UNHAPPY_PATH]):
                with hot_path(False):
                    expected = theirs(policy, lookup, states)
                assert ours(policy, lookup, states) == expected
                compared += 1
    assert compared > 300
    # The rules read back once and shared by every call are still what their keys say.
    for key in list(policy.lookup[RULES]) + list(policy.lookup[RULES_FOR_LOOP_UNHAPPY_PATH]):
        assert RulePolicy._rule_key_to_state(key) == json.loads(key)
    assert RulePolicy._rule_key_to_state.cache_info().hits > 0
