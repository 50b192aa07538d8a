"""Every change the project makes to Rasa, rasa_sdk and logging, in one place.

Rasa runs none of our code at start-up: the only way in is what it loads by
dotted path from endpoints.yml and credentials.yml. So each of those plug-ins
-- the tracker store (bot.tracker_store), the lock store (bot.lock_store), the
REST channel (bot.channels.rest) and the WeChat channel
(bot.channels.wechat) -- calls `install()` when Rasa creates it, and
whichever comes first installs the patches; the later calls change nothing.
A Rasa server with any one of them alone is patched the same way.

Four moments, four functions (each idempotent):

- `install()`: the Rasa server process, from our plug-ins (SERVER_PATCHES and
  log redaction);
- `harden_server()`: before `rasa run` builds its app, from `python -m
  bot.rasa_ext.rasa_server` (ENTRY_PATCHES: a plug-in loads too late for them);
- `install_action_server()`: the action server, from actions/__init__.py
  (rasa_sdk imports it after it set up its logging);
- `install_training()`: `rasa train`, from `python -m bot.rasa_ext.train`
  (TRAINING_PATCHES: the same model, sooner).

Not patches, extension points used as meant: the action server's pluggy hook
(bot/rasa_ext/action_server.py) and the filter on the httpx logger that masks WeChat
access tokens in URLs (bot/channels/wechat/api_client.py).
"""
from __future__ import annotations

import importlib
import inspect
import threading
from dataclasses import dataclass
from functools import wraps
from typing import Any, Callable, Dict, Tuple

from bot.privacy import log_redaction

_lock = threading.RLock()
_originals: Dict[Tuple[str, str], Any] = {}  # (owner, name) -> what the patch replaced


@dataclass(frozen=True)
class Patch:
    """`owner.name = replace(original)`; owner is a module or a class, by dotted path."""

    owner: str
    name: str
    replace: Callable[[Any], Any]

    def target(self) -> Any:
        module, _, cls = self.owner.rpartition(".")
        try:
            return importlib.import_module(self.owner)
        except ModuleNotFoundError:
            return getattr(importlib.import_module(module), cls)

    def current(self) -> Any:
        return getattr(self.target(), self.name)

    def apply(self) -> None:
        key = (self.owner, self.name)
        if key not in _originals:
            target = self.target()
            # Kept as defined (a static method stays one when undone); replace() gets it as called.
            _originals[key] = inspect.getattr_static(target, self.name)
            setattr(target, self.name, self.replace(getattr(target, self.name)))

    def applied(self) -> bool:
        return (self.owner, self.name) in _originals

    def undo(self) -> None:
        original = _originals.pop((self.owner, self.name), None)
        if original is not None:
            setattr(self.target(), self.name, original)


# --- the tracker store fails loudly ------------------------------------------------------------

class TrackerStoreUnavailable(RuntimeError):
    """The conversation could not be read or saved: the turn must fail."""


def _raise_unavailable(error: Exception) -> None:
    raise TrackerStoreUnavailable(type(error).__name__) from error


def _failing_loudly(init: Callable) -> Callable:
    """FailSafeTrackerStore.__init__ with TrackerStoreUnavailable raised on a
    store error unless the caller gives its own callback. Rasa's Agent wraps
    every tracker store in one that, when the database fails, answers the turn
    from an empty in-memory conversation and keeps its events in memory: the
    user's form is silently forgotten, and once the database is back, what that
    replica saves no longer lines up with what is stored. With this the turn
    fails, the channel says so (REST: 503; WeChat: "please send it again"),
    nothing is half-stored."""

    @wraps(init)
    def __init__(self: Any, tracker_store: Any, on_tracker_store_error: Any = None,
                 fallback_tracker_store: Any = None) -> None:
        init(self, tracker_store, on_tracker_store_error or _raise_unavailable, fallback_tracker_store)

    return __init__


def _store_or_stop(load: Callable) -> Callable:
    """rasa.core.tracker_store._load_from_module_name_in_endpoint_config without
    its fallback: when the tracker store endpoints.yml names cannot be imported
    or its constructor raises an ImportError or AttributeError, Rasa warned and
    ran on an in-memory store: every conversation lost at the next restart, and
    replicas that do not see each other's. (Found when a patch of ours failed
    to import inside our store's constructor: the server came up and answered.)
    Now the error stops the server at start."""

    @wraps(load)
    def load_or_raise(domain: Any, store: Any, event_broker: Any = None) -> Any:
        from rasa.shared.utils.common import class_from_module_path

        store_class = class_from_module_path(store.type)
        return store_class(host=store.url, domain=domain, event_broker=event_broker, **store.kwargs)

    return load_or_raise


# --- the Rasa server's app -----------------------------------------------------------------------

def _bearer_auth(requires_auth: Callable) -> Callable:
    from bot.rasa_ext.rasa_server import bearer_auth

    return bearer_auth(requires_auth)


def _hardened(configure_app: Callable) -> Callable:
    from bot.rasa_ext.rasa_server import harden

    @wraps(configure_app)
    def hardened_configure_app(*args: Any, **kwargs: Any) -> Any:
        return harden(configure_app(*args, **kwargs))

    return hardened_configure_app


def _validate_action_result(original: Callable) -> Callable:
    from bot.rasa_ext.speedups import validate_action_result

    return validate_action_result


def _faster(module: str, name: str) -> Callable[[Callable], Callable]:
    """The replacement `module.name(original)` builds, imported only when the patch is applied."""
    def replace(original: Callable) -> Callable:
        return getattr(importlib.import_module(module), name)(original)

    return replace


def _speedup(name: str) -> Callable[[Callable], Callable]:
    return _faster("bot.rasa_ext.speedups", name)


def _training_speedup(name: str) -> Callable[[Callable], Callable]:
    return _faster("bot.rasa_ext.training_speedups", name)


_COUNT_VECTORS = "rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer.CountVectorsFeaturizer"

# Installed by our plug-ins in the Rasa server process.
SERVER_PATCHES = (
    # Rasa checked the (constant) action-reply schema itself at every action call: 43% of the CPU on form turns.
    Patch("rasa.core.actions.action.RemoteAction", "_validate_action_result", _validate_action_result),
    # Each custom action was sent the whole session: the latest turns (bot/rasa_ext/action_tracker.py).
    Patch("rasa.core.actions.action.RemoteAction", "_action_call_format",
          _faster("bot.rasa_ext.action_tracker", "action_call_format")),
    # On a database error Rasa answers from an EMPTY conversation: the turn fails instead (see _failing_loudly).
    Patch("rasa.core.tracker_store.FailSafeTrackerStore", "__init__", _failing_loudly),
    # DIET looked up its one traced TensorFlow function at every call.
    Patch("rasa.utils.tensorflow.models.RasaModel", "_rasa_predict", _speedup("rasa_predict")),
    # Each graph run (three on an FAQ turn) went through dask's scheduler for a chain of a dozen nodes.
    Patch("rasa.engine.runner.dask.DaskGraphRunner", "run", _speedup("graph_run")),
    # Joining a message's word and character features went through scipy's general block-matrix code.
    Patch("rasa.shared.nlu.training_data.features.Features", "_combine_sparse_features",
          _speedup("combine_sparse_features")),
    # DIET deep-copied a message's feature matrices to replace the copies at once.
    Patch("rasa.shared.nlu.training_data.message.Message", "_combine_features", _speedup("combine_features")),
    Patch("rasa.utils.tensorflow.model_data_utils", "_create_fake_features", _speedup("create_fake_features")),
    # A message's n-grams went through scikit-learn's checks and matrix conversions four times.
    Patch(_COUNT_VECTORS, "_create_features", _speedup("count_vectors_features")),
    # RulePolicy matched every rule against every state of the session, past the longest rule.
    Patch("rasa.core.policies.rule_policy.RulePolicy", "_get_possible_keys", _speedup("possible_rule_keys")),
    Patch("rasa.core.policies.rule_policy.RulePolicy", "_rule_key_to_state", _speedup("parsed_rule_keys")),
)

# Installed by `python -m bot.rasa_ext.rasa_server` before Rasa builds its app (bot/rasa_ext/rasa_server.py).
ENTRY_PATCHES = (
    # Rasa reads its API token only from ?token=, which proxies write into their logs: a Bearer header works too.
    Patch("rasa.server", "requires_auth", _bearer_auth),
    # sanic 21.12 spins forever on a negative Content-Length and takes 100 MB bodies: our request class, 256 KiB.
    Patch("rasa.core.run", "configure_app", _hardened),
    # A tracker store that fails to load stops the server instead of Rasa's in-memory stand-in.
    Patch("rasa.core.tracker_store", "_load_from_module_name_in_endpoint_config", _store_or_stop),
)


# Installed by `python -m bot.rasa_ext.train` before Rasa trains (bot/rasa_ext/train.py).
TRAINING_PATCHES = (
    # Rasa fingerprints every message again after each featurizer, also with its cache off:
    # a fifth of the training time went into hashing tokens one by one and printing sparse matrices.
    Patch("rasa.shared.nlu.training_data.message.Message", "fingerprint",
          _training_speedup("message_fingerprint")),
    Patch("rasa.shared.nlu.training_data.features.Features", "fingerprint",
          _training_speedup("features_fingerprint")),
    # Each batch of each epoch stacked its sparse features example by example: 12 s of the training.
    Patch("rasa.utils.tensorflow.data_generator.RasaDataGenerator", "_scipy_matrix_to_values",
          _training_speedup("sparse_batch_values")),
    # Every example's n-grams went through scikit-learn's checks and matrix conversions: 15% of the time.
    Patch(_COUNT_VECTORS, "_create_features", _speedup("count_vectors_features")),
)


def install() -> None:
    """The Rasa server's patches; every plug-in of ours calls it when Rasa creates it."""
    with _lock:
        # No personal data in any log line, structlog event, warning or write to stdout/stderr
        # (bot/privacy/log_redaction.py: logging.Handler.handle, the root handlers' filters, structlog's
        # processors, warnings.showwarning, sys.stdout/stderr). Asked again at every call, so
        # handlers Rasa added since the first plug-in loaded (its --log-file) get the filter too.
        log_redaction.install()
        for patch in SERVER_PATCHES:
            patch.apply()


def harden_server() -> None:
    """The patches Rasa's app must be built with; `python -m bot.rasa_ext.rasa_server` calls it first."""
    with _lock:
        for patch in ENTRY_PATCHES:
            patch.apply()


def install_action_server() -> None:
    """The action server's patches; actions/__init__.py calls it when rasa_sdk imports the actions."""
    # No personal data in any line the action server writes, as in the Rasa server.
    log_redaction.install()


def install_training() -> None:
    """The patches of `rasa train`; `python -m bot.rasa_ext.train` calls it first."""
    with _lock:
        for patch in TRAINING_PATCHES:
            patch.apply()


def uninstall() -> None:
    """Undoes the attribute patches of all four (for tests; log redaction has its own)."""
    with _lock:
        for patch in SERVER_PATCHES + ENTRY_PATCHES + TRAINING_PATCHES:
            patch.undo()
