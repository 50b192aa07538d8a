"""RulePolicy trained in the test process on data/ and domain.yml, as `rasa
train` configures it (seconds, no model): for tests of what the rules predict."""
from __future__ import annotations

from pathlib import Path
from typing import Tuple

from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.importers.importer import TrainingDataImporter

from bot.core.paths import ROOT


def trained_rule_policy(directory: Path) -> Tuple[RulePolicy, Domain]:
    importer = TrainingDataImporter.load_from_dict(
        config_path=str(ROOT / "config.yml"), domain_path=str(ROOT / "domain.yml"),
        training_data_paths=[str(ROOT / "data")])  # the NLU data too: its retrieval intent makes utter_faq
    domain = importer.get_domain()
    trackers = TrainingDataGenerator(importer.get_stories(), domain, augmentation_factor=0).generate()
    (settings,) = [p for p in importer.get_config()["policies"] if p["name"] == "RulePolicy"]
    policy = RulePolicy.create(
        {**RulePolicy.get_default_config(), **{k: v for k, v in settings.items() if k != "name"}},
        LocalModelStorage(directory), Resource("rules"), ExecutionContext(GraphSchema({}), "rules"))
    policy.train(trackers, domain)
    return policy, domain
