"""`python -m bot.insights export-training-data [path]`: the review inbox's labelled items as NLU
training data (bot/insights/training_export.py), from the staff database at STAFF_DB_URL. `make train`
runs it first; the file changes (and the model retrains) only when the labels do."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.insights", description="The review inbox's training data")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("export-training-data", help="write the labelled review items as Rasa NLU YAML")
    command.add_argument("path", nargs="?", help="where (default: data/reviewed/nlu.yml)")
    args = parser.parse_args(argv)

    from sqlalchemy.exc import SQLAlchemyError

    from bot.core.settings import resolved
    from bot.insights import training_export

    path = Path(args.path) if args.path else training_export.DEFAULT_PATH
    try:
        result, changed = training_export.export(resolved()["STAFF_DB_URL"], path)
    except SQLAlchemyError as error:
        # Training goes on with what was exported before (an empty file the first time).
        print(f"export-training-data: the staff database cannot be read ({type(error).__name__}); "
              f"{path} left as it was", file=sys.stderr)
        if not path.exists():
            training_export.write(path, training_export.Export())
        return 0
    skipped = ", ".join(f"{count} {why}" for why, count in sorted(result.skipped.items())) or "none"
    print(f"{path}: {result.count} labelled examples ({'written' if changed else 'unchanged'}); left out: {skipped}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
