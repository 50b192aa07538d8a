"""The review inbox's labelled items as training data (bot/insights/training_export.py): what goes
into data/reviewed/nlu.yml and what never does (masked text, the evaluation sets' texts, data/nlu's
own, new topics, dismissed items), the file rewritten only when it changes, the command, and the
Makefile's train rule running it first."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys

import pytest
import yaml

from bench.evaluation import citizen_sets, dev_sets, heldout_sets, load_examples
from bot.core.paths import ROOT
from bot.db import Database
from bot.insights import review, training_export
from bot.insights.training_export import EVALUATION_DIRS, exact_key, select_examples
from bot.web.staff.store import open_store

HELDOUT_TEXT = heldout_sets()["zh"][0][0]  # a text of the validation set
TRAINED_TEXT = load_examples(ROOT / "data" / "nlu" / "faq_zh.yml")[0][0]


def evaluation_texts():
    return [text for sets in (heldout_sets(), dev_sets(), citizen_sets()) for examples in sets.values()
            for text, _ in examples]


def test_the_key_is_the_answer_guards():
    from bot.nlu.answer_guard import exact_key as guards

    for text in ["补办好的社保卡还要再激活一次吗?", "  Does my CARD need activating?? ", "補辦社保卡", "１２３３３"]:
        assert exact_key(text) == guards(text)


def test_labels_are_faq_keys_the_intents_a_citizen_says_and_new_topic():
    labels = training_export.labels()
    assert labels["reissue_fee"]["kind"] == "faq"
    assert labels["out_of_scope"]["kind"] == "intent" and labels["human_handoff"]["kind"] == "intent"
    assert labels["new_topic"]["kind"] == "new_topic"
    assert "faq" not in labels and not [label for label in labels if label.startswith("EXTERNAL_")]
    assert training_export.training_label("reissue_fee") == "faq/reissue_fee"
    assert training_export.training_label("out_of_scope") == "out_of_scope"


def test_what_goes_in_and_what_stays_out():
    export = select_examples([
        ("社保卡能不能当公交卡刷", "cross_region_use"),
        ("社保卡能不能当公交卡刷！", "cross_region_use"),  # the same text again
        ("养老金每个月几号到账呀", "out_of_scope"),
        ("how   much is a new card\nreally", "reissue_fee"),
        ("我在外地上学卡能用吗", "new_topic"),
        ("我的手机号是138****5678能查吗", "check_card_status"),
        (HELDOUT_TEXT.rstrip("?？") + "？", "reissue_needs_activation"),  # punctuation aside, a validation text
        (TRAINED_TEXT, "reissue_fee"),
        ("[社保卡](card_type)怎么办", "reissue_process"),
        ("？？", "greet"),
        ("卡丢了", "no_such_label"),
    ])
    assert export.examples == {
        "faq/cross_region_use": ["社保卡能不能当公交卡刷"],
        "out_of_scope": ["养老金每个月几号到账呀"],
        "faq/reissue_fee": ["how much is a new card really"],
    }
    assert export.skipped == {"duplicate": 1, "unknown label": 2, "masked": 1, "in an evaluation set": 1,
                              "in data/nlu already": 1, "markup": 1, "no words": 1}


def test_the_file_is_rasa_nlu_data_and_holds_no_evaluation_text(tmp_path):
    from rasa.shared.nlu.training_data.loading import load_data

    candidates = [(text, "reissue_fee") for text in evaluation_texts()[:200]] + [("社保卡能当饭卡用吗", "abnormal_use")]
    export = select_examples(candidates)
    assert export.examples == {"faq/abnormal_use": ["社保卡能当饭卡用吗"]}
    path = tmp_path / "nlu.yml"
    training_export.write_if_changed(path, training_export.render(export))
    data = load_data(str(path))
    assert [(m.get("text"), m.get("intent"), m.get("intent_response_key")) for m in data.training_examples] == [
        ("社保卡能当饭卡用吗", "faq", "faq/abnormal_use")]


@pytest.fixture()
def staff_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'staff.db'}"
    db = open_store(url)
    yield url, db
    db.dispose()


def add_item(db: Database, text: str, status: str = "open", label=None, note=None):
    at = dt.datetime(2026, 11, 2, 8, 0)
    with db.write() as session:
        session.add(review.ReviewItem(kind="fallback", norm=text, text=text, language="zh", count=1, first_at=at,
                                      last_at=at, status=status, label=label, note=note))
        session.commit()


def fingerprints():
    return {path: hashlib.sha256(path.read_bytes()).hexdigest()
            for directory in EVALUATION_DIRS for path in sorted(directory.glob("*.yml"))}


def test_the_command_writes_the_labelled_items_once_and_never_an_evaluation_set(staff_db, tmp_path):
    url, db = staff_db
    path = tmp_path / "reviewed" / "nlu.yml"
    before = fingerprints()
    env = dict(os.environ, STAFF_DB_URL=url)

    def run():
        done = subprocess.run([sys.executable, "-m", "bot.insights", "export-training-data", str(path)], env=env,
                              capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "0 labelled examples (written)" in run()
    assert path.stat().st_mtime == 0  # nothing labelled yet: a file no model is older than
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == {"version": "3.1", "nlu": []}

    add_item(db, "社保卡能当饭卡用吗", "labelled", "abnormal_use")
    add_item(db, "养老金什么时候涨", "labelled", "out_of_scope")
    add_item(db, "我想问个新问题", "labelled", "new_topic", note="新主题")
    add_item(db, "随便说说", "dismissed")
    add_item(db, "还没看的", "open")
    add_item(db, HELDOUT_TEXT, "labelled", "reissue_needs_activation")
    assert "2 labelled examples (written); left out: 1 in an evaluation set" in run()
    assert load_examples(path) == [("社保卡能当饭卡用吗", "faq/abnormal_use"), ("养老金什么时候涨", "out_of_scope")]
    written = path.stat().st_mtime_ns
    assert "(unchanged)" in run()
    assert path.stat().st_mtime_ns == written  # make sees no newer input: no retraining

    add_item(db, "社保卡可以买药吗", "labelled", "after_activation_use")
    assert "3 labelled examples (written)" in run()
    assert fingerprints() == before
    exported = {exact_key(text) for text, _ in load_examples(path)}
    assert not exported & {exact_key(text) for text in evaluation_texts()}


def test_a_fresh_clone_has_no_staff_database_and_trains_as_before(tmp_path):
    path = tmp_path / "nlu.yml"
    result, changed = training_export.export(f"sqlite:///{tmp_path / 'var' / 'staff.db'}", path)
    assert changed and result.count == 0
    assert not (tmp_path / "var").exists()  # nothing created where the staff database would be


def test_make_train_exports_first():
    done = subprocess.run(["make", "-n", "train"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    command = "-m bot.insights export-training-data data/reviewed/nlu.yml"
    export = next(n for n, line in enumerate(lines) if command in line)
    assert all("rasa train" not in line for line in lines[:export])
    assert "data/reviewed/" in (ROOT / ".gitignore").read_text().splitlines()
