"""No personal value a test typed is left in clear text anywhere a product of
this session keeps what it was told.

The registry is filled where values are typed: `typed_in(message, sender)` by
the helpers that send messages (a demo holder's ID number or phone number in
any usual form; the holder's name when typed at the name prompt, which
`replied(sender, replies)` tells), `typed(value)` for anything else a test
types (a verification code, a password, a person a test made up). What is
registered is what the product promises to mask (docs/SECURITY.md). The places are registered when they are made: `watch(directory)`
when a product, or one of its services alone, starts in `directory`;
`keep_database(url)` just before a PostgreSQL database of the tests is dropped.

At the end of the session (this module is a pytest plugin: its autouse
session fixture) every registered value is looked for in every file under the
watched directories (logs, the launcher's output, run state), in every cell of
every table of their SQLite databases and of the kept PostgreSQL databases,
and in the raw bytes of the SQLite files (a page SQLite freed still holds what
was deleted): as typed, and with the separators people type (spaces, hyphens,
dots, full-width digits) removed. The only clear copies allowed are the card
backend's records of a holder (name and phone on file) and its development SMS
outbox (the stand-in for the phone): ALLOWED below.
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Set, Tuple
from urllib.parse import unquote

import pytest
import yaml

from bot.backend.seed import DEMO_HOLDERS
from bot.core.paths import ROOT

# (table, column): where a clear value is the record itself, not a leak.
ALLOWED = {("holders", "name"), ("holders", "phone"), ("sms_outbox", "phone"), ("sms_outbox", "text")}
SQLITE_HEADER = b"SQLite format 3\x00"
NAME_PROMPTS = ("ask_holder_name", "not_a_holder_name", "invalid_name")  # actions/messages.yml

_values: Dict[str, str] = {}  # value -> what it is (shown when found)
_asked_for_name: Set[str] = set()  # senders whose last reply asked for their name
_directories: Set[Path] = set()
_kept: Dict[str, List[Tuple[str, str, str]]] = {}  # PostgreSQL URL -> (table, column, cell text)


# --- the registry --------------------------------------------------------------------------------

def typed(value: str, kind: str = "personal value") -> str:
    """Registers `value` (as a test types it); returns it."""
    value = str(value).strip()
    if value:
        _values.setdefault(canonical(value) if _NUMBER.fullmatch(canonical(value)) else value, kind)
    return value


def typed_in(message: str, sender: Optional[str] = None) -> str:
    """Registers what of a demo holder's `message` holds: an ID number or a phone number in any
    usual form (masked wherever typed), and the holder's name when `sender`'s last reply asked
    for a name (only there is a name recognised: docs/SECURITY.md). Returns `message`."""
    text, digits = str(message), canonical(str(message))
    for holder in DEMO_HOLDERS:
        if holder.id_number in digits or holder.phone in digits:
            typed(holder.id_number, "ID number")
            typed(holder.phone, "phone number")
        if sender in _asked_for_name and holder.name in text:
            typed(holder.name, "name")
    return message


def replied(sender: str, replies: Iterable) -> None:
    """What `sender` was answered (REST messages or texts): whether it asks for a name."""
    texts = [r.get("text") or "" if isinstance(r, dict) else str(r) for r in replies]
    if any(text in _name_prompts() for text in texts):
        _asked_for_name.add(sender)
    else:
        _asked_for_name.discard(sender)


@lru_cache(maxsize=None)
def _name_prompts() -> Set[str]:
    """The actions' messages that ask for the holder's name, in every language."""
    messages = yaml.safe_load((ROOT / "actions" / "messages.yml").read_text(encoding="utf-8"))
    return {text for key in NAME_PROMPTS for text in messages[key].values() if isinstance(text, str)}


def watch(directory: Path) -> Path:
    """A directory a product (or a service alone) keeps its files and SQLite databases in."""
    _directories.add(Path(directory))
    return directory


def keep_database(url: str) -> None:
    """Copies every cell of the PostgreSQL database at `url` for the scan at the end (call it just
    before the database is dropped)."""
    _kept[url] = database_cells(url)


def database_cells(url: str) -> List[Tuple[str, str, str]]:
    """(table, column, text) of every cell of every table of the database at `url`."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            cells = []
            for table in inspect(connection).get_table_names():
                result = connection.execute(text(f'SELECT * FROM "{table}"'))
                columns = list(result.keys())
                for row in result:
                    cells += [(table, column, _as_text(cell)) for column, cell in zip(columns, row)]
            return cells
    finally:
        engine.dispose()


# --- how a value is found -------------------------------------------------------------------------

_FULL_WIDTH = str.maketrans({**{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}, "\u3000": " "})
_BETWEEN_DIGITS = re.compile(r"(?<=[0-9])[\s\-.\u00b7]+(?=[0-9X])")
_NUMBER = re.compile(r"\+?[0-9]+X?")
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def canonical(text: str) -> str:
    """Full-width folded, upper case, the separators between digits removed."""
    return _BETWEEN_DIGITS.sub("", text.translate(_FULL_WIDTH).upper())


def readable(text: str) -> str:
    """`text` with JSON's \\uXXXX escapes and URL percent-escapes decoded (how stores and logs keep it)."""
    return unquote(_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text))


@lru_cache(maxsize=None)
def _own_words() -> Tuple[str, ...]:
    """What the product says of its own accord ("例如“张三”"): a value in these words is not a leak."""
    words: List[str] = []

    def leaves(node) -> Iterator[str]:
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for item in node.values():
                yield from leaves(item)
        elif isinstance(node, list):
            for item in node:
                yield from leaves(item)

    for path in ("actions/messages.yml", "domain.yml", "data/faq/responses.yml"):
        for leaf in leaves(yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))):
            words += [chunk for chunk in re.split(r"\{[a-z_]+\}", leaf) if len(chunk) >= 4]
    return tuple(sorted(set(words), key=len, reverse=True))


# Each pattern starts with the number itself, so that the regex engine looks for it as a literal
# (a pattern opening with a lookbehind made the session's scan fifty times slower).
def _number_pattern(value: str) -> "re.Pattern[str]":
    if len(value) >= 11:  # an ID number or a phone: no digit may follow (nor come before: _own_number)
        return re.compile(re.escape(value) + r"(?![0-9])")
    # A short number (a code): as a number of its own, not inside a longer one, a word or a fraction.
    return re.compile(re.escape(value) + r"(?![0-9A-Z])")


_SHORT_BEFORE = re.compile(r"[0-9A-Z.]$")  # what may not come before a code
_LONG_BEFORE = re.compile(r"(?<![0-9])\+?86$|[^0-9]$")  # before an ID or phone number: no digit but +86


def _own_number(value: str, text: str, start: int) -> bool:
    """Whether the number `value` found at `start` of `text` stands on its own there. In a log of
    numbers the separators removed join unrelated ones into runs that may hold any value by chance."""
    if start == 0:
        return True
    before = text[max(0, start - 4):start]
    if len(value) >= 11:
        return bool(_LONG_BEFORE.search(before))
    return not _SHORT_BEFORE.search(before)


def _present(value: str, plain: str, folded: str) -> bool:
    """Whether `value` is in the text: a number in its `folded` form, standing on its own; any other
    value word for word in its `plain` form."""
    if not _NUMBER.fullmatch(value):
        return value in plain
    return any(_own_number(value, folded, match.start()) for match in _number_pattern(value).finditer(folded))


def found_in(text: str, values: Iterable[str]) -> List[str]:
    """The values present in `text`."""
    plain = readable(text)
    for words in _own_words():
        if words in plain:
            plain = plain.replace(words, " ")
    folded = canonical(plain)
    return [v for v in values if _present(v, plain, folded)]


def _as_text(cell) -> str:
    if isinstance(cell, (bytes, bytearray, memoryview)):
        return bytes(cell).decode("utf-8", "replace")
    return "" if cell is None else str(cell)


# --- the scan ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    value: str
    place: str

    def __str__(self) -> str:
        keep = 3 if len(self.value) > 6 else 1  # enough to tell which value, not the value
        shown = self.value[:keep] + "*" * (len(self.value) - 2 * keep) + (self.value[-keep:] if keep > 1 else "")
        return f"{_values.get(self.value, 'value')} {shown} in {self.place}"


def _scan_cells(place: str, cells: Iterable[Tuple[str, str, str]], values: List[str]) -> Tuple[List[Finding], Set[str]]:
    """Findings outside ALLOWED, and the values present in ALLOWED cells."""
    columns: Dict[Tuple[str, str], List[str]] = {}
    for table, column, text in cells:
        columns.setdefault((table, column), []).append(text)
    findings, allowed = [], set()
    for (table, column), texts in columns.items():
        hits = found_in("\n".join(texts), values)
        if (table, column) in ALLOWED:
            allowed.update(hits)
        else:
            findings += [Finding(v, f"{place}: {table}.{column}") for v in hits]
    return findings, allowed


def _sqlite_cells(path: Path) -> Iterator[Tuple[str, str, str]]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            cursor = connection.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, cell in zip(columns, row):
                    yield table, column, _as_text(cell)
    finally:
        connection.close()


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(16) == SQLITE_HEADER


def scan() -> List[Finding]:
    """Every registered value found in clear text in a watched place."""
    values = sorted(_values)
    findings: List[Finding] = []
    for url, cells in _kept.items():
        findings += _scan_cells(url.rsplit("/", 1)[-1], cells, values)[0]
    for directory in sorted(_directories):
        files = sorted(p for p in directory.rglob("*") if p.is_file())
        databases = [p for p in files if _is_sqlite(p)]
        for database in databases:
            found, allowed = _scan_cells(str(database), _sqlite_cells(database), values)
            findings += found
            # The raw bytes, the write-ahead log and the rollback journal too: values the
            # database holds as a record are looked for in its cells only.
            rest = [v for v in values if v not in allowed]
            for raw in [database] + [database.with_name(database.name + s) for s in ("-wal", "-journal")]:
                if raw.exists():
                    findings += [Finding(v, f"{raw} (raw bytes)")
                                 for v in found_in(raw.read_bytes().decode("utf-8", "replace"), rest)]
        for path in files:
            if path in databases or path.name.endswith(("-wal", "-journal", "-shm")):
                continue
            findings += [Finding(v, str(path)) for v in found_in(path.read_text("utf-8", errors="replace"), values)]
    return sorted(set(findings), key=str)


def assert_none_stored() -> None:
    findings = scan()
    assert not findings, "personal values in clear text:\n" + "\n".join(map(str, findings))


@pytest.fixture(scope="session", autouse=True)
def no_personal_value_left_in_clear():
    """Set up before every other session fixture, so torn down after them: after every product stopped."""
    yield
    assert_none_stored()
