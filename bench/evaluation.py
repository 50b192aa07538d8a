"""Evaluate the trained NLU model on sets it never trained on, per language.

A development tool, not part of the product: `make eval` runs this after
training on data/ only. Three sets, never trained on (tests check them):
tests/nlu_heldout/ (the validation set: the pipeline's settings were chosen on
it), tests/nlu_dev/ (the tuning set: messages as citizens type them, written
by a writer who never saw data/ nor tests/; the answer guard's settings were
chosen on it and the validation set) and tests/nlu_citizen/ (the test set:
written the same way by another writer, a third and more of it out of scope;
used for nothing but the final figure). It prints, per language, intent
accuracy, macro F1, out-of-scope recall, the share of messages answered right,
answered wrong (another topic, or an answer to an out-of-scope question) and
declined (fallback or out of scope for an in-scope question), and the worst-
confused pairs; it writes a confusion matrix PNG.

Labels: an FAQ question's label is its full retrieval intent `faq/<key>`; a
prediction of `nlu_fallback` counts as `out_of_scope` (both mean "not
something I answer"), which is right for an out-of-scope message and wrong for
any other.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

import yaml

from bot.core.paths import ROOT

HELDOUT_DIR = ROOT / "tests" / "nlu_heldout"
DEV_DIR = ROOT / "tests" / "nlu_dev"
CITIZEN_DIR = ROOT / "tests" / "nlu_citizen"
OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "nlu_fallback"


def load_examples(path: Path) -> List[Tuple[str, str]]:
    """(text, label) pairs from a Rasa NLU YAML file."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    examples = []
    for block in document.get("nlu", []):
        for line in block["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                examples.append((line[2:].strip(), block["intent"]))
    return examples


def heldout_sets(directory: Path = HELDOUT_DIR) -> Dict[str, List[Tuple[str, str]]]:
    """Examples per language, from files named <anything>_<language>.yml."""
    sets: Dict[str, List[Tuple[str, str]]] = {}
    for path in sorted(directory.glob("*_*.yml")):
        sets.setdefault(path.stem.rsplit("_", 1)[1], []).extend(load_examples(path))
    return sets


def citizen_sets() -> Dict[str, List[Tuple[str, str]]]:
    return heldout_sets(CITIZEN_DIR)


def dev_sets() -> Dict[str, List[Tuple[str, str]]]:
    return heldout_sets(DEV_DIR)


SETS = {"heldout": heldout_sets, "dev": dev_sets, "citizen": citizen_sets}


def predicted_label(parse: dict) -> str:
    """The label a parse result stands for (see the module docstring)."""
    intent = (parse.get("intent") or {}).get("name")
    if intent == "faq":
        selectors = parse.get("response_selector") or {}
        # Our config names the selector after its retrieval intent; Rasa's
        # default pipeline (bench/) has one selector named "default".
        selector = selectors.get("faq") or selectors.get("default") or {}
        key = (selector.get("response") or {}).get("intent_response_key")
        return key or "faq"
    if intent == FALLBACK:
        return OUT_OF_SCOPE
    return intent or OUT_OF_SCOPE


@dataclass
class Report:
    language: str
    gold: List[str] = field(default_factory=list)
    predicted: List[str] = field(default_factory=list)
    texts: List[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        hits = sum(g == p for g, p in zip(self.gold, self.predicted))
        return hits / len(self.gold) if self.gold else 0.0

    @property
    def macro_f1(self) -> float:
        from sklearn.metrics import f1_score

        labels = sorted(set(self.gold))
        return float(
            f1_score(self.gold, self.predicted, labels=labels, average="macro", zero_division=0)
        )

    @property
    def out_of_scope_recall(self) -> float:
        pairs = [(g, p) for g, p in zip(self.gold, self.predicted) if g == OUT_OF_SCOPE]
        return sum(p == OUT_OF_SCOPE for _, p in pairs) / len(pairs) if pairs else 0.0

    def _outcomes(self) -> Counter:
        """right / wrong / declined, as a citizen meets them (module docstring)."""
        outcomes = Counter()
        for g, p in zip(self.gold, self.predicted):
            if g == p:
                outcomes["right"] += 1
            elif p == OUT_OF_SCOPE:
                outcomes["declined"] += 1
            else:
                outcomes["wrong"] += 1
        return outcomes

    @property
    def right(self) -> float:
        return self._outcomes()["right"] / len(self.gold) if self.gold else 0.0

    @property
    def wrong(self) -> float:
        return self._outcomes()["wrong"] / len(self.gold) if self.gold else 0.0

    @property
    def declined(self) -> float:
        return self._outcomes()["declined"] / len(self.gold) if self.gold else 0.0

    def confused_pairs(self, most: int = 5) -> List[Tuple[Tuple[str, str], int]]:
        return Counter(
            (g, p) for g, p in zip(self.gold, self.predicted) if g != p
        ).most_common(most)

    def errors(self) -> Iterable[Tuple[str, str, str]]:
        for t, g, p in zip(self.texts, self.gold, self.predicted):
            if g != p:
                yield t, g, p

    def summary(self) -> dict:
        return {
            "language": self.language,
            "examples": len(self.gold),
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "out_of_scope_recall": round(self.out_of_scope_recall, 4),
            "right": round(self.right, 4),
            "wrong": round(self.wrong, 4),
            "declined": round(self.declined, 4),
        }


def load_agent(model_path: str):
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # not one debug line per parsed message
    return Agent.load(model_path)


async def evaluate_agent(agent, sets: Dict[str, List[Tuple[str, str]]]) -> List[Report]:
    reports = []
    for language, examples in sets.items():
        report = Report(language)
        for text, label in examples:
            parse = await agent.parse_message(text)
            report.texts.append(text)
            report.gold.append(label)
            report.predicted.append(predicted_label(parse))
        reports.append(report)
    return reports


async def evaluate(model_path: str, sets: Dict[str, List[Tuple[str, str]]]) -> List[Report]:
    return await evaluate_agent(load_agent(model_path), sets)


def plot_confusion(reports: List[Report], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    fig, axes = plt.subplots(1, len(reports), figsize=(11 * len(reports), 10))
    axes = axes if len(reports) > 1 else [axes]
    for ax, report in zip(axes, reports):
        labels = sorted(set(report.gold) | set(report.predicted))
        matrix = confusion_matrix(report.gold, report.predicted, labels=labels)
        ax.imshow(matrix, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        for (i, j), n in __import__("numpy").ndenumerate(matrix):
            if n:
                ax.text(j, i, str(n), ha="center", va="center", fontsize=6,
                        color="white" if n > matrix.max() / 2 else "black")
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.set_title(f"{report.language}: accuracy {report.accuracy:.3f}, macro F1 {report.macro_f1:.3f}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def print_report(reports: List[Report], show_errors: bool) -> None:
    print(f"{'language':<9}{'examples':>9}{'accuracy':>10}{'macro F1':>10}{'OOS recall':>12}"
          f"{'right':>8}{'wrong':>8}{'declined':>10}")
    for r in reports:
        print(f"{r.language:<9}{len(r.gold):>9}{r.accuracy:>10.3f}{r.macro_f1:>10.3f}{r.out_of_scope_recall:>12.3f}"
              f"{r.right:>8.3f}{r.wrong:>8.3f}{r.declined:>10.3f}")
    for r in reports:
        print(f"\nworst-confused pairs ({r.language}): gold -> predicted")
        for (gold, pred), n in r.confused_pairs() or [(("-", "-"), 0)]:
            print(f"  {n:>3}  {gold} -> {pred}")
        if show_errors:
            for text, gold, pred in r.errors():
                print(f"       {text!r}: {gold} -> {pred}")


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="trained model (.tar.gz)")
    parser.add_argument("--plot", default=str(ROOT / "reports" / "confusion_matrix.png"))
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("--errors", action="store_true", help="list every miss")
    parser.add_argument("--set", choices=list(SETS) + ["all"], default="all")
    args = parser.parse_args(argv)
    names = list(SETS) if args.set == "all" else [args.set]
    agent = load_agent(args.model)
    figures = {}
    for name in names:
        print(f"\n== {name} set ==")
        reports = asyncio.run(evaluate_agent(agent, SETS[name]()))
        print_report(reports, args.errors)
        plot = Path(args.plot).with_name(f"{Path(args.plot).stem}_{name}.png")
        plot_confusion(reports, plot)
        print(f"\nconfusion matrix: {plot}")
        figures[name] = [r.summary() for r in reports]
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
