"""The loaded model kept out of the garbage collector's full collections.

A full collection (generation 2) walks every object the collector tracks, with
the event loop stopped. In the Rasa server most of them are the model's
(TensorFlow, the NLU components, the domain), which live as long as the model
does. Measured 2026-12-04 (a gc callback in the Rasa server, `make bench`'s
speed runs): a full collection every 20-35 s under load, 217-242 ms each, so
every turn in flight waited a quarter of a second more: with 50 users, the
8% of turns it fell on made the p95. `gc.freeze()` once the model is loaded
moves those objects to a generation the collector never walks; a full
collection walks only what came after (the kept sessions, requests).

A reload replaces the model: the old one's objects are frozen too, and those
in reference cycles (TensorFlow holds many) would never be freed. `refreeze`
unfreezes, collects them and freezes what is left (one full pause per reload,
as before).
"""
from __future__ import annotations

import gc
from typing import Any


def freeze() -> None:
    """Everything alive now (the model) out of the collector's reach; garbage first."""
    gc.collect()
    gc.freeze()


def refreeze() -> None:
    """After a model reload: the old model's objects collected, the new one's frozen."""
    gc.unfreeze()
    freeze()


async def freeze_after_start(app: Any, loop: Any) -> None:
    """sanic listener (after_server_start): Rasa loaded the model before the server started."""
    freeze()
