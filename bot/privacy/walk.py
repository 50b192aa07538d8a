"""One walk over nested values, for every redaction: each string in a value
passed through a function (the tracker store's masking of events, the log
redaction's masking of log arguments and structlog events)."""
from __future__ import annotations

from typing import AbstractSet, Any, Callable

MAX_DEPTH = 8  # deeper than this (or a structure that holds itself): masked as one text


def map_strings(value: Any, fn: Callable[[str], str], secret_keys: AbstractSet[str] = frozenset(),
                _depth: int = 0) -> Any:
    """`value` with `fn` applied to every string in it. The caller's objects
    are never changed: a dict is copied as a dict, a list as a list, a tuple
    or set as a tuple. The value under a dict key in `secret_keys` is masked
    whole (unless None). Bytes, and any other object whose str() `fn`
    changes, are replaced by that changed text; numbers, None and objects
    with nothing to mask are kept as they are."""
    if isinstance(value, str):
        return fn(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if _depth > MAX_DEPTH:
        return _as_text(value, fn)
    if isinstance(value, dict):
        return {
            key: "*" * len(str(item)) if key in secret_keys and item is not None
            else map_strings(item, fn, secret_keys, _depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [map_strings(item, fn, secret_keys, _depth + 1) for item in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value).decode("utf-8", "replace")
        masked = fn(text)
        return value if masked == text else masked
    return _as_text(value, fn)


def _as_text(value: Any, fn: Callable[[str], str]) -> Any:
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 - an object that cannot say what it is holds nothing to mask
        return value
    masked = fn(text)
    return value if masked == text else masked
