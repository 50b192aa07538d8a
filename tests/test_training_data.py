"""The training data and the held-out test set: complete, consistent, apart."""
import re
import warnings
from collections import defaultdict

import pytest
import yaml

from bot.core import knowledge_base
from bench.evaluation import heldout_sets, load_examples
from bot.core.paths import ROOT
from bot.nlu.answer_guard import exact_key
from bot.nlu.normalizer import normalize_text

# Every FAQ topic of the knowledge base and every intent of the domain a user
# can say: the labels the training data and the held-out sets must use, and
# nothing else. An EXTERNAL_ intent is never said: another process triggers it
# through Rasa's trigger_intent (a hand-over's status change), so it has no examples.
EXTERNAL = "EXTERNAL_"
_DOMAIN_INTENTS = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"]
LABELS = {f"faq/{key}" for key in knowledge_base.load()} | {
    i for i in _DOMAIN_INTENTS if i != "faq" and not i.startswith(EXTERNAL)}


def training_examples():
    """(text, label, language) of every training example."""
    for path in sorted((ROOT / "data" / "nlu").glob("*_*.yml")):
        language = path.stem.rsplit("_", 1)[1]
        for text, label in load_examples(path):
            yield text, label, language


# "The same text" as the answer guard's exact match decides it: normalised, no punctuation or spaces.
_key = exact_key


def test_every_label_has_enough_training_examples_per_language():
    counts = defaultdict(int)
    for _, label, language in training_examples():
        counts[(label, language)] += 1
    for label in LABELS:
        assert counts[(label, "zh")] >= 20, label
        assert counts[(label, "en")] >= 10, label
    assert {label for label, _ in counts} == LABELS


def test_no_example_is_labelled_twice():
    labels = defaultdict(set)
    for text, label, _ in training_examples():
        labels[_key(text)].add(label)
    conflicts = {text: sorted(ls) for text, ls in labels.items() if len(ls) > 1}
    assert not conflicts


def test_heldout_set_covers_every_label_and_is_never_trained_on():
    sets = heldout_sets()
    assert set(sets) == {"zh", "en"}
    for language, minimum in (("zh", 6), ("en", 3)):
        counts = defaultdict(int)
        for _, label in sets[language]:
            counts[label] += 1
        assert set(counts) == LABELS
        assert min(counts.values()) >= minimum
    trained = {_key(text) for text, _, _ in training_examples()}
    leaked = [text for examples in sets.values() for text, _ in examples if _key(text) in trained]
    assert not leaked


def test_rasa_data_validate_reports_nothing(monkeypatch):
    """What `rasa data validate --fail-on-warnings` checks, run in this process
    (the same function the command calls: a subprocess spent 5 s importing).
    EXTERNAL_ intents are left out of its two checks of intents (NLU examples,
    use in a story or rule): they have no examples (LABELS above), and
    tests/test_handoff_rules.py checks that a rule answers each."""
    from rasa.cli.utils import validate_files
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.utils.common import EXPECTED_WARNINGS  # what the command itself keeps quiet
    from rasa.validator import Validator

    said = Validator._non_default_intents
    monkeypatch.setattr(Validator, "_non_default_intents",
                        lambda self: [i for i in said(self) if not i.startswith(EXTERNAL)])

    importer = TrainingDataImporter.load_from_config(
        domain_path=str(ROOT / "domain.yml"), training_data_paths=[str(ROOT / "data")],
        config_path=str(ROOT / "config.yml"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            validate_files(True, None, importer)
        except SystemExit as stop:  # rasa's print_error_and_exit
            pytest.fail(f"rasa data validate failed ({stop.code}): {[str(w.message) for w in caught]}")
    problems = [
        str(w.message) for w in caught
        if issubclass(w.category, UserWarning)
        and not any(issubclass(w.category, kind) and re.match(pattern, str(w.message))
                    for kind, pattern in EXPECTED_WARNINGS)
        # Rasa 3.6 always warns so when a retrieval intent is declared in the
        # domain (as its docs ask): the importer merges `faq` in a second time.
        and "duplicated intents have been found across multiple domain files: faq" not in str(w.message)
    ]
    assert not problems, "\n".join(problems)


def edit_distance(a, b):
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _short(key):
    """Shorter than six Chinese characters and than three Latin words: "谢谢",
    "thank you", "2" coincide by nature, not by copying."""
    han = len(re.findall(r"[\u3400-\u9fff]", key))
    words = len(re.findall(r"[a-z]+", key))
    return han < 6 and words < 3


def near_duplicates(examples, trained):
    """(text, twin) for each (text, label) within edit distance 2, or at
    difflib similarity >= 0.9, of a training example with the same label
    (a twin with another label makes the figure harder, not easier). Texts
    are folded by _key; candidates come from shared character pairs, which a
    twin by either test mostly shares."""
    import difflib
    from collections import Counter

    trained = sorted(trained)  # (folded text with spaces kept, label)
    pairs_of = lambda key: {key[i:i + 2] for i in range(len(key) - 1)} or {key}  # noqa: E731
    index = defaultdict(list)
    for number, (other, _) in enumerate(trained):
        for pair in pairs_of(other):
            index[pair].append(number)
    found = []
    for text, label in examples:
        spaced = normalize_text(text)
        if _short(spaced):
            continue
        key = _key(text)
        pairs = pairs_of(key)
        shared = Counter(number for pair in pairs for number in index[pair])
        for number, count in shared.most_common():
            other, other_label = trained[number]
            if count < len(pairs) / 2:
                break
            if other_label == label and (
                    difflib.SequenceMatcher(None, key, other).ratio() >= 0.9 or edit_distance(key, other) <= 2):
                found.append((text, other))
                break
    return found


def test_no_evaluation_text_is_a_near_twin_of_a_training_example():
    """Disjoint letter for letter is not enough: "补办社保卡需要带什么材料" beside a
    trained "补办社保卡需要什么材料" measures memory, not understanding."""
    trained = {(_key(text), label) for text, label, _ in training_examples()}
    from bench.evaluation import citizen_sets, dev_sets

    for sets in (heldout_sets(), dev_sets(), citizen_sets()):
        twins = near_duplicates([example for examples in sets.values() for example in examples], trained)
        assert not twins, twins
