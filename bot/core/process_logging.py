"""Logging of our own processes (the card backend, the web process): LOG_LEVEL,
one line format, to stderr (the launcher writes it to LOG_DIR)."""
from __future__ import annotations

import logging
import sys

from bot.core.settings import resolved


def setup(*quiet: str) -> None:
    """`quiet`: loggers kept at WARNING whatever LOG_LEVEL says (their
    lower levels carry what must not be logged, or only noise)."""
    level = resolved().get("LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for name in ("sqlalchemy", *quiet):  # SQLAlchemy would echo SQL parameters
        logging.getLogger(name).setLevel(logging.WARNING)
