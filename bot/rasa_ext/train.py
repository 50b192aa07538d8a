"""`python -m bot.rasa_ext.train ARGS`: Rasa's `rasa train ARGS`, with the training patches.

The same model as `rasa train` gives (bootstrap.TRAINING_PATCHES change how Rasa
computes its training-cache fingerprints and stacks a batch's sparse features, not
what it computes), in about three quarters of the time: `make train`, the
benchmark and the tests that train use it.
"""
from __future__ import annotations

import sys

from bot.rasa_ext import bootstrap


def main() -> None:
    bootstrap.install_training()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", "train", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
