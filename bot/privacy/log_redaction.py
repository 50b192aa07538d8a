"""Log redaction: no clear ID number or phone number in any log line.

`install()` (idempotent; `bot.rasa_ext.bootstrap` calls it in the Rasa
server and in the action server) does five things:

1. wraps `logging.Handler.handle`, so every record reaching any handler --
   the root logger's, one added later (Rasa's `--log-file`, sanic's), the
   last-resort one -- first has its formatted message, its extra string
   attributes, its exception text and stack text passed through
   `bot.privacy.pii.redact` (`codes=False`: a log line keeps its times, ports and
   counts), and the value of a secret slot or field shown as key/value
   (`bot.privacy.slots.SECRET_NAMES`: sms_code, verification_token,
   password, pin) is masked --
   Rasa logs "Validating extracted slots: {'sms_code': '123456'}" at DEBUG;
2. adds `RedactingFilter` to the root logger's handlers present now (the
   same work, for a setup that later replaces `Handler.handle`);
3. puts `structlog_processor` first in structlog's processor chain (Rasa 3.6
   logs through structlog, whose rendered line then goes through logging and
   is redacted again there). In the structlog event, the keys Rasa itself marks
   as carrying user data (`text`, `user_text`, `parse_data_text`, `rasa_events`,
   `slot_values`, ... the list of rasa.utils.log_utils._anonymizer) are
   redacted with `codes=True` as well: a code the user typed is masked there.

4. routes warnings (`warnings.showwarning`) through the "py.warnings"
   logger after masking them like a log line and, whole, every quoted value
   and its repeats: Rasa warns "Failed to parse arguments in line '/李四 ...'
   ... but found 李四 ..." for a message starting with "/" (it printed the
   user's words to the Rasa server's output before);
5. wraps sys.stdout and sys.stderr in `RedactingStream` (line by line), so
   a print() or any other write of the process is masked too.

`uninstall()` undoes all of it (for tests).
"""
from __future__ import annotations

import io
import logging
import re
import sys
import threading
import warnings
from typing import Any, Dict, List, Optional

from bot.privacy.pii import redact
from bot.privacy.slots import SECRET_NAMES
from bot.privacy.walk import map_strings

# The keys rasa.utils.log_utils._anonymizer treats as user data.
USER_DATA_KEYS = frozenset({
    "text", "response_text", "user_text", "slot_values", "parse_data_text", "parse_data_entities",
    "prediction_events", "tracker_latest_message", "prefilled_slots", "message", "response",
    "slot_candidates", "rasa_event", "rasa_events", "tracker_states", "current_states", "old_states",
    "successes", "current_entity", "next_entity", "states", "entity", "token_text", "user_message",
    "json_message",
})
# Slots and fields whose value is a secret (bot/privacy/slots.py) are masked whole wherever a
# log line shows them as key/value
# ('sms_code': '123456', "sms_code": "123456", sms_code=123456, SlotSet(key: sms_code, value: 123456)).
_KEYS = "|".join(sorted(SECRET_NAMES, key=lambda name: (-len(name), name)))
_SECRET_PAIR = re.compile(
    rf"(?<![A-Za-z0-9_])(?P<head>['\"]?(?:{_KEYS})['\"]?\s*[:=]\s*['\"]?)(?P<value>[^'\"\s,;}}\])]+)"
    rf"|(?P<slot>key: (?:{_KEYS}), value: )(?P<slot_value>[^)]*)"
)


def _mask_pair(match: re.Match) -> str:
    if match.group("head") is not None:
        value = match.group("value")
        return match.group("head") + (value if value == "None" else "*" * len(value))
    value = match.group("slot_value")
    return match.group("slot") + (value if value == "None" else "*" * len(value))


def redact_text(text: str, codes: bool = False) -> str:
    """bot.privacy.pii.redact, plus the values of SECRET_NAMES shown as key/value."""
    return _SECRET_PAIR.sub(_mask_pair, redact(text, codes=codes))


_QUOTED = re.compile(r"'([^'\n]{1,500})'|\"([^\"\n]{1,500})\"")


def redact_warning(text: str) -> str:
    """A warning's text: quoted values (and their repeats, with or without a
    leading "/") masked whole, then like a log line with codes."""
    values = {v for pair in _QUOTED.findall(text) for v in pair if v.strip()}
    values |= {v.lstrip("/").strip() for v in values if v.lstrip("/").strip()}
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, "*" * len(value))
    return redact_text(text, codes=True)


class RedactingStream(io.TextIOBase):
    """A text stream that writes whole lines, each passed through
    redact_text, to `target` (a partial line waits for its end or a flush)."""

    def __init__(self, target: Any) -> None:
        super().__init__()
        self.target = target
        self._pending = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            if "\n" in self._pending:
                complete, _, self._pending = self._pending.rpartition("\n")
                self.target.write(redact_text(complete + "\n"))
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                self.target.write(redact_text(self._pending))
                self._pending = ""
        self.target.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.target.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.target, "encoding", "utf-8")


_original_showwarning = None  # warnings.showwarning before install()
_original_streams: Dict[str, Any] = {}


def _showwarning(message, category, filename, lineno, file=None, line=None) -> None:
    text = warnings.formatwarning(message, category, filename, lineno, line)
    logging.getLogger("py.warnings").warning("%s", redact_warning(text).rstrip())


# structlog keys that are not text to redact.
_STRUCTLOG_SKIP = frozenset({"exc_info", "stack_info", "level", "timestamp", "logger"})

_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_MARK = "_pii_redacted"
_lock = threading.Lock()
_original_handle = None  # logging.Handler.handle before install()
_filters: List[logging.Handler] = []


def redact_value(value: Any, codes: bool = False) -> Any:
    """`value` with every string in it redacted and every SECRET_NAMES key's
    value masked whole; containers are copied (the caller's objects are never
    changed); any other object whose str() holds personal data is replaced by
    its redacted str()."""
    return map_strings(value, lambda text: redact_text(text, codes=codes), SECRET_NAMES)


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Masks the record in place (once): message, extra string attributes,
    exception and stack text."""
    if getattr(record, _MARK, False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed call: keep its parts, masked
        message = f"{record.msg} {record.args!r}"
    record.msg = redact_text(message)
    record.args = ()
    for key, value in list(vars(record).items()):
        if key not in _STANDARD_ATTRIBUTES and not key.startswith("_") and isinstance(value, str):
            setattr(record, key, redact_text(value))
    if record.exc_info and not record.exc_text:
        try:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        except Exception:  # noqa: BLE001
            pass
    if record.exc_text:
        record.exc_text = redact_text(record.exc_text)
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)
    setattr(record, _MARK, True)
    return record


class RedactingFilter(logging.Filter):
    """A handler (or logger) filter that masks every record and drops none."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def structlog_processor(logger: Any, method_name: str, event_dict: Dict[str, Any]) -> Dict[str, Any]:
    """A structlog processor: every value redacted; the user-data keys with codes too."""
    for key, value in list(event_dict.items()):
        if key in _STRUCTLOG_SKIP or key.startswith("_"):
            continue
        if key in SECRET_NAMES and value is not None:
            event_dict[key] = "*" * len(str(value))
        else:
            event_dict[key] = redact_value(value, codes=key in USER_DATA_KEYS)
    return event_dict


def _handle(self: logging.Handler, record: logging.LogRecord) -> Any:
    redact_record(record)
    return _original_handle(self, record)


def _structlog_processors() -> Optional[list]:
    try:
        import structlog
    except ImportError:  # pragma: no cover - structlog ships with rasa
        return None
    processors = structlog.get_config()["processors"]
    if not isinstance(processors, list):
        # Rebuild as a list: loggers bound from now on see the processor.
        structlog.configure(processors=list(processors))
        processors = structlog.get_config()["processors"]
    return processors


def install() -> None:
    """Turns log redaction on for this process (idempotent)."""
    global _original_handle
    with _lock:
        if _original_handle is None:
            _original_handle = logging.Handler.handle
            logging.Handler.handle = _handle
        for handler in logging.getLogger().handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())
                _filters.append(handler)
        processors = _structlog_processors()
        # In place: loggers structlog already cached hold this same list.
        if processors is not None and structlog_processor not in processors:
            processors.insert(0, structlog_processor)
        global _original_showwarning
        if _original_showwarning is None:
            _original_showwarning = warnings.showwarning
            warnings.showwarning = _showwarning
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if stream is not None and not isinstance(stream, RedactingStream):
                _original_streams[name] = stream
                setattr(sys, name, RedactingStream(stream))


def installed() -> bool:
    return _original_handle is not None


def uninstall() -> None:
    """Undoes install() (for tests)."""
    global _original_handle
    with _lock:
        if _original_handle is not None:
            logging.Handler.handle = _original_handle
            _original_handle = None
        for handler in _filters:
            for f in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
                handler.removeFilter(f)
        _filters.clear()
        processors = _structlog_processors()
        while processors is not None and structlog_processor in processors:
            processors.remove(structlog_processor)
        global _original_showwarning
        if _original_showwarning is not None:
            warnings.showwarning = _original_showwarning
            _original_showwarning = None
        for name, stream in _original_streams.items():
            current = getattr(sys, name)
            if isinstance(current, RedactingStream):
                current.flush()
                setattr(sys, name, stream)
        _original_streams.clear()
